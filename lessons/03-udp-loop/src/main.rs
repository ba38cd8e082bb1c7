//! 第 3 课:永不停歇的 UDP 回声服务器(练习)
//!
//! 和第 1 课一样绑定地址、原样回复,但它不退出:一个循环接一个数据报地服务下去。
//! 每个数据报都回给它自己的发送方,所以许多客户端可以交错地使用同一个服务器。
//! 空数据报、坏的 UTF-8、一次失败的发送,都只记一行日志,然后接着服务。
//!
//! 协议:与第 1 课相同。每收到一个数据报(0 到 65507 字节),就把完全相同的字节
//! 作为一个数据报发回给它的发送方。
//!
//! 课本:book/src/03-udp-loop.md。完成下面三个 TODO,然后评分:
//!
//! ```text
//! cargo test -p lesson-03
//! ```
//!
//! 手动试一试:
//!
//! ```text
//! cargo run -p lesson-03
//! # 另一个终端:每输入一行回车,都会被原样发回;按 Ctrl-C 结束 nc
//! cargo run -q -p course -- nc -u 127.0.0.1 7852
//! ```

// 骨架里的 todo!() 让一些参数和导入暂时用不上;三步都写完以后,可以删掉下面这一行。
#![allow(unused_variables, unused_imports, dead_code, unused_macros)]

use std::net::UdpSocket;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Parser;

/// 打印一行日志,和 println! 一样;但 stdout 被关掉了(比如 `… | head -n 1` 读完一行就走了)
/// 也不会 panic。Rust 程序忽略 SIGPIPE,写一个没人读的管道是一个错误,println! 遇到错误就
/// panic;服务器的日志写不出去,不能连累它的客户端(课本第 6 课「日志写不出去」)。
macro_rules! log {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

/// 和 eprintln! 一样,但 stderr 被关掉了也不会 panic。
macro_rules! warn {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

/// 最大的 UDP 数据报(IPv4)。
const MAX_DATAGRAM: usize = 65_507;

/// 第 3 课:永不停歇的 UDP 回声服务器。把每个数据报原样回给它的发送方。
#[derive(Parser)]
#[command(
    disable_help_flag = true,
    help_template = "{about}\n\n用法: {bin} [选项]\n\n选项:\n{options}"
)]
struct Args {
    /// 要绑定的 IP 地址(默认 127.0.0.1:只在本机回环地址上监听)
    #[arg(long, default_value = "127.0.0.1", value_parser = clap_zh::host, hide_default_value = true)]
    host: String,

    /// 要绑定的端口;0 表示让操作系统随便挑一个空闲端口(默认 7852)
    #[arg(short, long, default_value_t = 7852, hide_default_value = true)]
    port: u16,

    /// 显示帮助
    #[arg(short, long, action = clap::ArgAction::Help)]
    help: Option<bool>,
}

fn main() -> ExitCode {
    let args: Args = clap_zh::parse();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("错误: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> Result<()> {
    let socket = bind(&args.host, args.port)?;
    serve(&socket)
}

// ANCHOR: bind
/// 第 1 步:绑定地址,并打印「实际」绑定到的地址(和第 1 课一样)。
fn bind(host: &str, port: u16) -> Result<UdpSocket> {
    // TODO: 第 1 步:和第 1 课一样,绑定 (host, port) 并打印实际地址。
    //   - 可以把你在第 1 课写好的 bind 搬过来。
    //   - 第一行输出必须含有 socket.local_addr() 的结果(评分时 port 是 0)。
    //   - 打印用 log!(…):它和 println! 一样,只是 stdout 被关掉了也不会 panic(见它的注释)。
    todo!("第 1 步:在 {host}:{port} 上绑定 UDP 套接字,并打印实际地址")
}
// ANCHOR_END: bind

// ANCHOR: serve
/// 第 2 步:永远循环,一次处理一个数据报。一个数据报出了错,只记日志,不停下。
fn serve(socket: &UdpSocket) -> Result<()> {
    // TODO: 第 2 步:永远循环,每一轮调用一次 echo_one。
    //   - 缓冲区在循环外分配一次(MAX_DATAGRAM 字节),每一轮复用。
    //   - echo_one 返回 Err 时,用 warn!(和 eprintln! 一样,stderr 关掉了也不 panic)记一行警告,然后继续循环:
    //     一个数据报出了问题,不能让服务器停下来,更不能丢下别的客户端。
    //   - loop { … } 永远不会结束,所以这个函数其实不会返回:不需要在最后写 Ok(())。
    todo!("第 2 步:永远循环地处理数据报")
}
// ANCHOR_END: serve

// ANCHOR: echo_one
/// 第 3 步:收一个数据报,打印一行日志,再原样发回给它的发送方。
fn echo_one(socket: &UdpSocket, buf: &mut [u8]) -> Result<()> {
    // TODO: 第 3 步:收一个数据报,打印一行日志,再把它原样发回给它的发送方。
    //   - recv_from 返回 (n, 发送方);数据是 &buf[..n]。n 可以是 0:那是一个空数据报,
    //     照样回复一个空数据报。UDP 没有「连接关闭」,0 不是 EOF。
    //   - 打印恰好一行,含发送方地址和文字,例如「[127.0.0.1:50000] 13 字节: 你好,世界」。
    //     文字用 String::from_utf8_lossy 得到(不是用 {:?} 打印字节的数字),
    //     再用 .escape_debug() 转义换行和控制字符,这样一个数据报只占一行。
    //   - 用 send_to 回给这一次的发送方;出错时用 with_context 说明要回复谁,用 ? 返回。
    todo!("第 3 步:接收、打印并原样回复一个数据报")
}
// ANCHOR_END: echo_one
