//! 评分测试:启动本课编译出的程序,用真实的套接字和它对话。
//!
//! 不要修改这个文件。评分逻辑写在评分框架里(tests/src/),
//! 练习 lessons/ 和参考答案 solutions/ 用的是同一份。

/// 本包编译出的可执行文件(包名与程序名相同)。
const PROGRAM: &str = env!(concat!("CARGO_BIN_EXE_", env!("CARGO_PKG_NAME")));

/// 按顺序通过第 {{N}} 课的每一项检查。
#[test]
fn lesson_{{NN}}() {
    harness::grade(&harness::lesson{{NN}}::LESSON, PROGRAM);
}
