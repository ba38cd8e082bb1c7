//! 第 3 课:永不停歇的 UDP 回声服务器(参考答案)
//!
//! 和第 1 课一样绑定地址、原样回复,但它不退出:一个循环接一个数据报地服务下去。
//! 每个数据报都回给它自己的发送方,所以许多客户端可以交错地使用同一个服务器。
//! 空数据报、坏的 UTF-8、一次失败的发送,都只记一行日志,然后接着服务。
//!
//! 协议:与第 1 课相同。每收到一个数据报(0 到 65507 字节),就把完全相同的字节
//! 作为一个数据报发回给它的发送方。
//!
//! 手动试一试(课本:book/src/03-udp-loop.md):
//!
//! ```text
//! cargo run -p solution-03
//! # 另一个终端:每输入一行回车,都会被原样发回;按 Ctrl-C 结束 nc
//! cargo run -q -p course -- nc -u 127.0.0.1 7852
//! ```

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
    // ANCHOR: step-1
    let socket =
        UdpSocket::bind((host, port)).with_context(|| format!("无法绑定 {host}:{port}"))?;
    let addr = socket.local_addr().context("无法读取绑定的地址")?;
    log!("UDP 回声服务器已启动,正在监听 {addr}");
    Ok(socket)
    // ANCHOR_END: step-1
}
// ANCHOR_END: bind

// ANCHOR: serve
/// 第 2 步:永远循环,一次处理一个数据报。一个数据报出了错,只记日志,不停下。
fn serve(socket: &UdpSocket) -> Result<()> {
    // ANCHOR: step-2
    // 缓冲区在循环外分配一次,每个数据报都复用它。
    let mut buf = vec![0u8; MAX_DATAGRAM];
    loop {
        if let Err(err) = echo_one(socket, &mut buf) {
            // 比如 Windows 上,给一个已经关掉的客户端发过数据后,下一次 recv_from
            // 会报 ConnectionReset。这只和那个客户端有关,服务器要继续服务别人。
            warn!("警告: {err:#}");
        }
    }
    // ANCHOR_END: step-2
}
// ANCHOR_END: serve

// ANCHOR: echo_one
/// 第 3 步:收一个数据报,打印一行日志,再原样发回给它的发送方。
fn echo_one(socket: &UdpSocket, buf: &mut [u8]) -> Result<()> {
    // ANCHOR: step-3
    let (n, peer) = socket.recv_from(buf).context("接收数据报失败")?;
    // n 可以是 0:那是一个空数据报,照样回复。UDP 没有「连接关闭」这回事。
    let data = &buf[..n];
    // escape_debug 把换行、控制字符转义成 \n、\u{1b} 之类,所以一个数据报只占一行日志,
    // 别人发来的终端控制序列也不会搞乱我们的终端。
    let text = String::from_utf8_lossy(data);
    log!("[{peer}] {n} 字节: {}", text.escape_debug());
    socket
        .send_to(data, peer)
        .with_context(|| format!("无法回复 {peer}"))?;
    Ok(())
    // ANCHOR_END: step-3
}
// ANCHOR_END: echo_one
