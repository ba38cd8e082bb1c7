//! 第 2 课:带超时的 UDP 客户端(练习)
//!
//! 它把 `--message` 作为一个数据报发给服务器,最多等 `--timeout` 秒,把服务器的
//! 回复打印出来。等不到回复时(UDP 可能丢包,服务器也可能根本没运行),它在 stderr
//! 说明情况,并以非 0 退出码退出,而不是像 Python 教程里的 `recvfrom` 那样永远等下去。
//!
//! 协议:与第 1 课相同。客户端发一个数据报,服务器把回复作为一个数据报发回来。
//!
//! 课本:book/src/02-udp-client.md。完成下面三个 TODO,然后评分:
//!
//! ```text
//! cargo test -p lesson-02
//! ```
//!
//! 手动试一试(服务器用第 1 课的参考答案,或者你自己写好的第 1 课):
//!
//! ```text
//! cargo run -p solution-01
//! # 另一个终端:
//! cargo run -p lesson-02 -- --message 你好
//! ```

// 骨架里的 todo!() 让一些参数和导入暂时用不上;三步都写完以后,可以删掉下面这一行。
#![allow(unused_variables, unused_imports, dead_code)]

use std::io;
use std::net::{SocketAddr, ToSocketAddrs, UdpSocket};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use clap::Parser;

/// 往 stdout 打印一行,和 println! 一样;但 stdout 被关掉了也不会 panic。
///
/// 比如 `… | head -n 1`:head 读完第一行就走了,之后再写 stdout 会失败(Rust 程序忽略 SIGPIPE,
/// 写一个没人读的管道是一个错误),而 println! 遇到错误就 panic,退出码变成 101。没人看的输出
/// 丢掉就是了:收没收到回复,退出码照样说得清清楚楚。服务器的 log! 也是这样(课本第 6 课「日志写不出去」)。
macro_rules! show {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

/// 回复最多 65507 字节(IPv4 上一个 UDP 数据报的上限)。缓冲区小了,多出的部分会被悄悄丢掉。
const MAX_DATAGRAM: usize = 65_507;

// ANCHOR: args
/// 第 2 课:带超时的 UDP 客户端。发一个数据报,等服务器的回复并打印。
#[derive(Parser)]
#[command(
    disable_help_flag = true,
    help_template = "{about}\n\n用法: {bin} [选项]\n\n选项:\n{options}"
)]
struct Args {
    /// 服务器的 IP 地址或主机名(默认 127.0.0.1)
    #[arg(long, default_value = "127.0.0.1", value_parser = clap_zh::host, hide_default_value = true)]
    host: String,

    /// 服务器的端口(默认 7852)
    #[arg(short, long, default_value_t = 7852, hide_default_value = true)]
    port: u16,

    /// 要发送的文字(默认「我爱 Rust」)
    #[arg(short, long, default_value = "我爱 Rust", hide_default_value = true)]
    message: String,

    /// 最多等回复多少秒(默认 3)
    #[arg(short, long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..), hide_default_value = true)]
    timeout: u64,

    /// 显示帮助
    #[arg(short, long, action = clap::ArgAction::Help)]
    help: Option<bool>,
}
// ANCHOR_END: args

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

// ANCHOR: run
fn run(args: &Args) -> Result<()> {
    let server = resolve(&args.host, args.port)?;
    let timeout = Duration::from_secs(args.timeout);

    let socket = open_socket(server, timeout)?;
    send(&socket, args.message.as_bytes(), server)?;

    let mut buf = vec![0u8; MAX_DATAGRAM];
    let reply = receive(&socket, &mut buf, server, timeout)?;
    show!("服务器回复: {}", String::from_utf8_lossy(reply));
    Ok(())
}
// ANCHOR_END: run

/// 把主机名和端口解析成一个地址(`localhost` 这样的名字也可以)。
///
/// 一个名字可能对应好几个地址,比如 `localhost` 常常既是 ::1 又是 127.0.0.1。
/// 这门课的服务器默认只绑定 127.0.0.1,所以有 IPv4 地址时优先用它。
fn resolve(host: &str, port: u16) -> Result<SocketAddr> {
    let addrs: Vec<SocketAddr> = (host, port)
        .to_socket_addrs()
        .with_context(|| format!("无法解析地址 {host}:{port}"))?
        .collect();
    addrs
        .iter()
        .find(|addr| addr.is_ipv4())
        .or(addrs.first())
        .copied()
        .ok_or_else(|| anyhow!("{host}:{port} 没有对应的地址"))
}

// ANCHOR: open_socket
/// 第 1 步:打开一个 UDP 套接字,并设置读超时。
fn open_socket(server: SocketAddr, timeout: Duration) -> Result<UdpSocket> {
    // TODO: 第 1 步:打开一个 UDP 套接字,并设置读超时。
    //   - 客户端不需要固定端口:绑定端口 0,让系统挑。IPv4 的服务器配 "0.0.0.0:0",
    //     IPv6 的服务器配 "[::]:0"(用 server.is_ipv4() 判断)。
    //   - 用 socket.set_read_timeout(Some(timeout)) 设置读超时。不设的话,
    //     服务器不回复时 recv_from 会永远等下去。
    //   - 出错时用 context 说明是哪一步失败了,返回这个套接字。
    todo!(
        "第 1 步:打开 UDP 套接字并设置 {} 秒的读超时",
        timeout.as_secs()
    )
}
// ANCHOR_END: open_socket

// ANCHOR: send
/// 第 2 步:把消息作为一个数据报发给服务器。
fn send(socket: &UdpSocket, message: &[u8], server: SocketAddr) -> Result<()> {
    // TODO: 第 2 步:用 send_to 把 message 作为「一个」数据报发给 server。
    //   - 发 message 本身:不要加换行。
    //   - 发完打印一行,例如「已向 127.0.0.1:7852 发送 13 字节」。用 show!(…) 打印:它和 println!
    //     一样,只是 stdout 被关掉了(比如 `… | head -n 1`)也不会 panic。
    //   - 出错时用 with_context 说明是发给谁失败了。
    todo!("第 2 步:把消息发给 {server}")
}
// ANCHOR_END: send

// ANCHOR: receive
/// 第 3 步:等服务器的回复,最多等 `timeout`。
fn receive<'buf>(
    socket: &UdpSocket,
    buf: &'buf mut [u8],
    server: SocketAddr,
    timeout: Duration,
) -> Result<&'buf [u8]> {
    // TODO: 第 3 步:用 recv_from 等服务器的回复,返回回复的字节 &buf[..n]。
    //   - 超时会以错误的形式返回:Unix 上是 io::ErrorKind::WouldBlock,
    //     Windows 上是 io::ErrorKind::TimedOut,两种都要认。
    //   - 超时时用 bail! 返回一句中文说明,例如「等了 3 秒,没有收到 127.0.0.1:7852 的回复,
    //     请确认服务器正在运行」。说明里要提到「超时」或等了几「秒」(评分器会检查)。
    //     不要 unwrap:超时不是 bug,是 UDP 的日常。
    //   - 其他错误用 with_context 加上说明后返回。
    todo!(
        "第 3 步:最多等 {} 秒,接收 {server} 的回复",
        timeout.as_secs()
    )
}
// ANCHOR_END: receive
