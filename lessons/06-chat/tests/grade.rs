//! 评分测试:启动本课编译出的程序(服务器和客户端是它的两个子命令),
//! 用好几个真实的 TCP 连接同时和它对话。
//!
//! 不要修改这个文件。评分逻辑写在评分框架里(tests/src/),
//! 练习 lessons/ 和参考答案 solutions/ 用的是同一份。

/// 本包编译出的可执行文件(包名与程序名相同)。
const PROGRAM: &str = env!(concat!("CARGO_BIN_EXE_", env!("CARGO_PKG_NAME")));

/// 按顺序通过第 6 课的每一项检查。
#[test]
fn lesson_06_chat() {
    harness::grade(&harness::lesson06::LESSON, PROGRAM);
}
