//! 命令行工具的输出:`course … | head` 不能 panic。
//!
//! head 读够了几行就关掉管道。Rust 程序忽略 SIGPIPE,之后再写 stdout 就是一个错误,
//! 而 `println!` 遇到错误就 panic(「failed printing to stdout: Broken pipe」,退出码 101)。
//! 参考答案的服务器用 `log!` 把这个错误丢掉,因为服务器还要接着服务;`course`、`load` 这样
//! 的工具没有别的事可做了:没人读,就安静地退出。

use std::fmt;
use std::io::{self, Write};

/// 和 `println!` 一样,但 stdout 被关掉了就安静地退出(退出码 0),不 panic。
#[macro_export]
macro_rules! say {
    () => {
        $crate::say::out(::std::format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::say::out(::std::format_args!("{}\n", ::std::format_args!($($arg)*)))
    };
}

/// 和 `print!` 一样(不换行,马上 flush),stdout 被关掉了就安静地退出。
#[macro_export]
macro_rules! say_part {
    ($($arg:tt)*) => {
        $crate::say::out(::std::format_args!($($arg)*))
    };
}

/// 把 `args` 写到 stdout 并 flush。管道被关掉了:退出码 0;别的错误(比如磁盘满了):
/// 在 stderr 说一声,退出码 1。
pub fn out(args: fmt::Arguments<'_>) {
    let mut stdout = io::stdout().lock();
    if let Err(err) = stdout.write_fmt(args).and_then(|()| stdout.flush()) {
        if err.kind() == io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        let _ = writeln!(io::stderr(), "错误: 无法写入标准输出: {err}");
        std::process::exit(1);
    }
}
