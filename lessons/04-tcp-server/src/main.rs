//! 第 4 课:一行一条消息的 TCP 服务器(练习)
//!
//! 它在一个循环里接受连接。每个连接:读一条消息,打印它和客户端的地址,回一行
//! 「收到了谁的什么」,然后关闭连接,去接下一个客户端。一个出了问题的客户端
//! (什么都不发就走、发坏的 UTF-8、连接被重置、一直不说话)只记一行日志,不影响别人。
//!
//! 协议(一行一条消息):
//! - 客户端发一行文字,以 `\n` 结尾(`\r\n` 也可以);不带换行就关闭发送方向,也算一条完整的消息;
//! - 服务器回一行 `收到来自 <客户端地址> 的消息: <文字>\n`,然后关闭连接;
//! - 一条消息最多 64 KiB;每一次读或写最多等 `--timeout` 秒,等不到就断开这个连接。
//!
//! 课本:book/src/04-tcp-server.md。完成下面四个 TODO,然后评分:
//!
//! ```text
//! cargo test -p lesson-04
//! ```
//!
//! 手动试一试:
//!
//! ```text
//! cargo run -p lesson-04
//! # 另一个终端:输入一行文字回车,会收到服务器的回复
//! cargo run -q -p course -- nc 127.0.0.1 8998
//! ```

// 骨架里的 todo!() 让一些参数和导入暂时用不上;所有步骤都写完以后,可以删掉下面这一行。
#![allow(unused_variables, unused_imports, dead_code, unused_macros)]

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Parser;

/// 一条消息最多这么多字节。不设上限的话,一个一直不发换行的客户端能把服务器的内存吃光。
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

const MAX_MESSAGE: u64 = 64 * 1024;

/// 第 4 课:一行一条消息的 TCP 服务器。每个连接收一行,回一行,然后关闭。
#[derive(Parser)]
#[command(
    disable_help_flag = true,
    help_template = "{about}\n\n用法: {bin} [选项]\n\n选项:\n{options}"
)]
struct Args {
    /// 要绑定的 IP 地址(默认 127.0.0.1:只在本机回环地址上监听)
    #[arg(long, default_value = "127.0.0.1", value_parser = clap_zh::host, hide_default_value = true)]
    host: String,

    /// 要绑定的端口;0 表示让操作系统随便挑一个空闲端口(默认 8998)
    #[arg(short, long, default_value_t = 8998, hide_default_value = true)]
    port: u16,

    /// 一个客户端要在多少秒内发完一行(每一次写也最多等这么久);超时就断开它,去服务下一个(默认 5)
    #[arg(short, long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..), hide_default_value = true)]
    timeout: u64,

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
    let listener = bind(&args.host, args.port)?;
    serve(&listener, Duration::from_secs(args.timeout))
}

// ANCHOR: bind
/// 第 1 步:绑定并开始监听,打印「实际」绑定到的地址。
fn bind(host: &str, port: u16) -> Result<TcpListener> {
    // TODO: 第 1 步:在 (host, port) 上绑定并监听,打印「实际」绑定到的地址。
    //   - TcpListener::bind((host, port)) 一步完成 Python 的 bind 和 listen;
    //     失败时用 with_context 说明是哪个地址,例如「无法绑定 127.0.0.1:8998」。
    //   - 第一行输出必须含有 listener.local_addr() 的结果,例如
    //     「TCP 服务器已启动,正在监听 127.0.0.1:8998」(评分时 port 是 0)。
    //   - 打印用 log!(…):它和 println! 一样,只是 stdout 被关掉了也不会 panic(见它的注释)。
    todo!("第 1 步:在 {host}:{port} 上绑定 TCP 监听套接字,并打印实际地址")
}
// ANCHOR_END: bind

// ANCHOR: serve
/// 第 2 步:一个接一个地接受连接。一个连接出了错,记下来,接着服务下一个。
fn serve(listener: &TcpListener, timeout: Duration) -> Result<()> {
    // TODO: 第 2 步:一个接一个地接受连接,交给 handle 处理,永不停止。
    //   - for incoming in listener.incoming() { … } 每一轮得到一个 io::Result<TcpStream>。
    //   - accept 失败、读不到 peer_addr、handle 返回 Err:都只 warn!(和 eprintln! 一样,stderr 关掉了也不 panic)一行警告
    //     (带上对方地址,例如「警告: 处理 127.0.0.1:50000 时出错: …」),然后继续循环。
    //     一个客户端出了问题,不能让服务器停下,更不能影响下一个客户端。
    todo!("第 2 步:循环接受连接,每个都交给 handle")
}
// ANCHOR_END: serve

// ANCHOR: handle
/// 第 3 步:服务一个连接:读一条消息,打印,回一行。
fn handle(stream: TcpStream, peer: SocketAddr, timeout: Duration) -> Result<()> {
    // TODO: 第 3 步:服务一个连接:设超时、读一条消息、打印、回一行。
    //   - 先用 set_write_timeout 设上 timeout:否则一个不读回复的客户端会让服务器一直等下去。
    //     (读的期限由第 4 步的 Deadline 管:一整行要在 timeout 之内发完。)
    //   - 用 read_message(第 4 步)读一条消息;返回 None 时打印一行
    //     「127.0.0.1:50000 没有发送任何内容就断开了」,然后返回 Ok(())。
    //   - 用 String::from_utf8_lossy 把消息变成文字,打印一行日志(用 escape_debug 转义)。
    //   - 回复一行,格式必须是:收到来自 <peer> 的消息: <文字>\n
    //     用 write_all 发出(write 可能只写出一部分)。函数返回时 stream 被 drop,连接就关闭了。
    todo!("第 3 步:处理来自 {peer} 的连接")
}
// ANCHOR_END: handle

// ANCHOR: deadline
/// 给「读一整行」设一个期限:每一次 read 之前,把读超时设成离期限还剩多久;
/// 过了期限,read 直接返回 TimedOut。
///
/// 只用 set_read_timeout 是不够的:它管的是「一次 read」。一个每隔 4 秒发一个字节的客户端,
/// 每次 read 都等不满 5 秒,却能一个字节一个字节地把服务器占上好几个小时。
struct Deadline<'a> {
    stream: &'a TcpStream,
    until: Instant,
}

impl<'a> Deadline<'a> {
    fn new(stream: &'a TcpStream, limit: Duration) -> Deadline<'a> {
        Deadline {
            stream,
            until: Instant::now() + limit,
        }
    }
}

impl Read for Deadline<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::ErrorKind::TimedOut.into());
        }
        self.stream.set_read_timeout(Some(left))?;
        self.stream.read(buf)
    }
}
// ANCHOR_END: deadline

// ANCHOR: read_message
/// 第 4 步:读一条消息:读到 `\n` 为止,或者读到对方关闭发送方向(EOF)为止。
///
/// TCP 是字节流:一次 read 可能只读到半条消息,也可能读到一条半。所以不能「读一次
/// 就当作一条消息」,而要一直读,直到看到消息的边界(换行)。
fn read_message(
    stream: &TcpStream,
    peer: SocketAddr,
    timeout: Duration,
) -> Result<Option<Vec<u8>>> {
    // TODO: 第 4 步:读一条消息:读到 \n 为止,或者读到 EOF 为止。
    //   - TCP 是字节流:一次 read 可能只读到半条消息,也可能读到一条半。
    //     用 BufReader::new(Deadline::new(stream, timeout).take(MAX_MESSAGE + 1)) 包起来,
    //     再 read_until(b'\n', &mut message)。Deadline 让一整行有一个期限(不是每一次 read)。
    //   - read_until 返回 Ok(0):对方什么都没发就关闭了,返回 Ok(None)。
    //   - 读超时(ErrorKind::WouldBlock 或 TimedOut):用 bail! 说明「{peer} 在 N 秒内没有发完一行」。
    //   - 去掉行尾的 \n(和紧挨在它前面的 \r),行首行尾的空格不要动;
    //     没有换行且超过 MAX_MESSAGE 字节时报错(带上 peer);
    //     没有换行也没超长,说明读到了 EOF,那也是一条完整的消息。返回 Ok(Some(message))。
    todo!("第 4 步:从 {peer} 读一行消息")
}
// ANCHOR_END: read_message
