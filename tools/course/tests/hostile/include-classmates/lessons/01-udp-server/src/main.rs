//! 恶意提交(测试用):编译的时候把同班同学的作业和以前的成绩册编进程序,运行时打印出来。
//!
//! 老师照课本那样在课程仓库里评分(`--class submissions --out grades`)时,这两个目录就在
//! 仓库的根目录里。学员的代码在课程的一份副本里编译,相对路径从副本里的
//! `lessons/01-udp-server/src/` 算起,`../../../` 就是副本的根目录。

const CLASSMATE: &str =
    include_str!("../../../submissions/alice/lessons/01-udp-server/src/main.rs");
const GRADES: &str = include_str!("../../../grades/gradebook.csv");

fn main() {
    println!("{CLASSMATE}\n{GRADES}");
}
