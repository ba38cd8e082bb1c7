//! 第 1 课:一次性的 UDP 服务器(练习)
//!
//! 它绑定一个地址,收下一个数据报,打印内容和发送方,把同样的字节原样发回给
//! 发送方,然后道别退出。对应 Python 教程里的 `recvfrom` / `sendto` 服务器。
//!
//! 协议:客户端发来一个数据报(最多 65507 字节),服务器把完全相同的字节
//! 作为一个数据报发回到「发送方的地址」。
//!
//! 课本:book/src/01-udp-server.md。完成下面三个 TODO,然后评分:
//!
//! ```text
//! cargo test -p lesson-01
//! ```
//!
//! 手动试一试:
//!
//! ```text
//! cargo run -p lesson-01
//! # 另一个终端:输入一行文字后回车,会看到它被原样发回
//! cargo run -q -p course -- nc -u 127.0.0.1 7852
//! ```

// 骨架里的 todo!() 让一些参数和导入暂时用不上;三步都写完以后,可以删掉下面这一行。
#![allow(unused_variables, unused_imports, dead_code, unused_macros)]

use std::net::{SocketAddr, UdpSocket};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Parser;

/// IPv4 上一个 UDP 数据报最多能带 65507 字节的数据。缓冲区按最大值准备,
/// 否则超出缓冲区的部分会被悄悄丢掉(Python 教程里的 `recvfrom(500)` 就有这个坑)。
/// 打印一行日志,和 println! 一样;但 stdout 被关掉了(比如 `… | head -n 1` 读完一行就走了)
/// 也不会 panic。Rust 程序忽略 SIGPIPE,写一个没人读的管道是一个错误,println! 遇到错误就
/// panic;服务器的日志写不出去,不能连累它的客户端(课本第 6 课「日志写不出去」)。
macro_rules! log {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

const MAX_DATAGRAM: usize = 65_507;

// ANCHOR: args
/// 第 1 课:一次性的 UDP 服务器。收一个数据报,原样回给发送方,然后退出。
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
// ANCHOR_END: args

// ANCHOR: main
fn main() -> ExitCode {
    // 和 Args::parse() 一样;只是参数写错时(比如 --port 70000),clap_zh 用中文说明错在哪,
    // 再以退出码 2 退出(clap 自带的说明是英文)。
    let args: Args = clap_zh::parse();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // `{:#}` 会把整条错误链打印出来,例如「无法绑定 …: Address already in use」。
            eprintln!("错误: {err:#}");
            ExitCode::FAILURE
        }
    }
}
// ANCHOR_END: main

// ANCHOR: run
fn run(args: &Args) -> Result<()> {
    let socket = bind(&args.host, args.port)?;

    let mut buf = vec![0u8; MAX_DATAGRAM];
    let (data, peer) = receive(&socket, &mut buf)?;
    reply(&socket, data, peer)?;

    log!("再见!");
    Ok(())
}
// ANCHOR_END: run

// ANCHOR: bind
/// 第 1 步:绑定地址,并打印「实际」绑定到的地址。
fn bind(host: &str, port: u16) -> Result<UdpSocket> {
    // TODO: 第 1 步:在 (host, port) 上绑定一个 UdpSocket,并打印它「实际」绑定到的地址。
    //   - 用 UdpSocket::bind((host, port)) 绑定;失败时用 with_context 说明是哪个地址,
    //     例如「无法绑定 127.0.0.1:7852」,再用 ? 交给 main(不要 unwrap)。
    //   - 第一行输出必须含有 socket.local_addr() 的结果,例如
    //     「UDP 服务器已启动,正在监听 127.0.0.1:7852」。评分时 port 是 0,
    //     系统会另挑一个端口,只有 local_addr() 知道是哪个。
    //   - 返回这个套接字。输出格式见课本「输出格式」一节。
    //   - 打印用 log!(…):它和 println! 一样,只是 stdout 被关掉了也不会 panic(见它的注释)。
    todo!("第 1 步:在 {host}:{port} 上绑定 UDP 套接字,并打印实际地址")
}
// ANCHOR_END: bind

// ANCHOR: receive
/// 第 2 步:等一个数据报,打印它的内容和发送方。
fn receive<'buf>(socket: &UdpSocket, buf: &'buf mut [u8]) -> Result<(&'buf [u8], SocketAddr)> {
    // TODO: 第 2 步:用 recv_from 等一个数据报,打印它的内容和发送方。
    //   - recv_from 返回 (n, 发送方地址);真正的数据只有 &buf[..n]。
    //   - 打印一行,同时含有文字和发送方地址,例如「收到来自 127.0.0.1:50000 的 13 字节: 你好,世界」。
    //     字节不一定是合法的 UTF-8:用 String::from_utf8_lossy 转成文字,坏字节会显示成 �。
    //   - 返回 (&buf[..n], 发送方地址)。
    todo!("第 2 步:接收一个数据报并打印它和发送方")
}
// ANCHOR_END: receive

// ANCHOR: reply
/// 第 3 步:把收到的字节原样发回给「发送方」的地址。
fn reply(socket: &UdpSocket, data: &[u8], peer: SocketAddr) -> Result<()> {
    // TODO: 第 3 步:用 send_to 把 data 原样发回给 peer(发送方的地址)。
    //   - 发的是 data 本身:不加前缀、不加换行,也不要发整个缓冲区。
    //   - 目标是 peer,不是某个固定端口:每个客户端的端口都不一样。
    //   - 出错时用 with_context 说明是要回复谁。
    todo!("第 3 步:把收到的字节原样发回给 {peer}")
}
// ANCHOR_END: reply
