//! 第 4 课:一行一条消息的 TCP 服务器(参考答案)
//!
//! 它在一个循环里接受连接。每个连接:读一条消息,打印它和客户端的地址,回一行
//! 「收到了谁的什么」,然后关闭连接,去接下一个客户端。一个出了问题的客户端
//! (什么都不发就走、发坏的 UTF-8、连接被重置、一直不说话)只记一行日志,不影响别人。
//!
//! 协议(一行一条消息):
//! - 客户端发一行文字,以 `\n` 结尾(`\r\n` 也可以);不带换行就关闭发送方向,也算一条完整的消息;
//! - 服务器回一行 `收到来自 <客户端地址> 的消息: <文字>\n`,然后关闭连接;
//! - 一条消息最多 64 KiB;一整行要在 `--timeout` 秒内发完(从开始读算起,不是每一次 read),
//!   每一次写最多等 `--timeout` 秒,等不到就断开这个连接。
//!
//! 手动试一试(课本:book/src/04-tcp-server.md):
//!
//! ```text
//! cargo run -p solution-04
//! # 另一个终端:输入一行文字回车,会收到服务器的回复
//! cargo run -q -p course -- nc 127.0.0.1 8998
//! ```

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
    // ANCHOR: step-1
    // Python 要 bind 再 listen;Rust 的 TcpListener::bind 一步做完这两件事。
    let listener =
        TcpListener::bind((host, port)).with_context(|| format!("无法绑定 {host}:{port}"))?;
    let addr = listener.local_addr().context("无法读取绑定的地址")?;
    log!("TCP 服务器已启动,正在监听 {addr}");
    Ok(listener)
    // ANCHOR_END: step-1
}
// ANCHOR_END: bind

// ANCHOR: serve
/// 第 2 步:一个接一个地接受连接。一个连接出了错,记下来,接着服务下一个。
fn serve(listener: &TcpListener, timeout: Duration) -> Result<()> {
    // ANCHOR: step-2
    for incoming in listener.incoming() {
        // accept 本身也会失败(比如客户端在排队时就断开了):这只和那一个连接有关。
        let stream = match incoming {
            Ok(stream) => stream,
            Err(err) => {
                warn!("警告: 接受连接失败: {err}");
                continue;
            }
        };
        let peer = match stream.peer_addr() {
            Ok(peer) => peer,
            Err(err) => {
                warn!("警告: 连接已经断开,读不到对方地址: {err}");
                continue;
            }
        };
        if let Err(err) = handle(stream, peer, timeout) {
            warn!("警告: 处理 {peer} 时出错: {err:#}");
        }
        // stream 在 handle 结束时被 drop,连接就关闭了。
    }
    Ok(())
    // ANCHOR_END: step-2
}
// ANCHOR_END: serve

// ANCHOR: handle
/// 第 3 步:服务一个连接:读一条消息,打印,回一行。
fn handle(stream: TcpStream, peer: SocketAddr, timeout: Duration) -> Result<()> {
    // ANCHOR: step-3
    // 没有超时的话,一个连上来却不读回复的客户端会让整个服务器永远等下去。
    // (读的期限由 read_message 里的 Deadline 管:它管的是一整行。)
    stream
        .set_write_timeout(Some(timeout))
        .context("无法设置写超时")?;

    let Some(message) = read_message(&stream, peer, timeout)? else {
        log!("{peer} 没有发送任何内容就断开了");
        return Ok(());
    };
    let text = String::from_utf8_lossy(&message);
    // escape_debug:日志里一条消息只占一行,别人发来的控制字符也不会搞乱我们的终端。
    log!("收到来自 {peer} 的消息: {}", text.escape_debug());

    let reply = format!("收到来自 {peer} 的消息: {text}\n");
    // write 可能只写出一部分;write_all 会一直写,直到全部写完或者出错。
    (&stream)
        .write_all(reply.as_bytes())
        .with_context(|| format!("无法回复 {peer}"))?;
    Ok(())
    // ANCHOR_END: step-3
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
    // ANCHOR: step-4
    // Deadline 让一整行有一个期限;take 限制最多读多少字节;
    // BufReader 帮我们一块一块地读,直到遇到换行。
    let mut reader = BufReader::new(Deadline::new(stream, timeout).take(MAX_MESSAGE + 1));
    let mut message = Vec::new();
    match reader.read_until(b'\n', &mut message) {
        // Ok(0):对方什么都没发就关闭了连接。
        Ok(0) => return Ok(None),
        Ok(_) => {}
        Err(err)
            if matches!(
                err.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
            ) =>
        {
            bail!("{peer} 在 {} 秒内没有发完一行,断开它", timeout.as_secs())
        }
        Err(err) => return Err(err).with_context(|| format!("读取 {peer} 的消息失败")),
    }
    if message.ends_with(b"\n") {
        message.pop();
        if message.ends_with(b"\r") {
            message.pop();
        }
    } else if message.len() as u64 > MAX_MESSAGE {
        bail!("{peer} 发来的一行超过了 {MAX_MESSAGE} 字节");
    }
    // 没有换行、也没超长:那就是读到了 EOF,对方发完就关闭了发送方向,这也是一条完整的消息。
    Ok(Some(message))
    // ANCHOR_END: step-4
}
// ANCHOR_END: read_message
