//! 恶意提交(测试用):编译的时候读提交以外的文件,编进程序里,运行时打印出来。
//! 一个是系统文件,一个是老师家目录里的私钥。
//!
//! 私钥的路径是写死的绝对路径(编译时的 `HOME` 是沙箱自己的,`env!("HOME")` 指不到老师的家):
//! `tests/class.rs` 评分前把它换成自己建的「老师家目录」里真实存在的私钥;原样使用时
//! (比如 `.ci/class-bench`),它指向 root 的家目录。

const PASSWD: &str = include_str!("/etc/passwd");
const KEY: &str = include_str!("/root/.ssh/id_ed25519");

fn main() {
    println!("{PASSWD}\n{KEY}");
}
