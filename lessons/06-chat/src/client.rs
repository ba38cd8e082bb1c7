//! 聊天室客户端:两个线程,一个读键盘、发出去,一个收消息、打印出来。
//!
//! 只用一个线程是不行的:它卡在「等你打字」的时候,别人发来的消息就没人读、没人打印,
//! 要等你敲下回车才一股脑儿冒出来。
//!
//! 服务器断了,收消息的线程会说一声,隔一会儿重连一次(间隔越来越长,最多 5 秒),
//! 连上以后自动报上原来的昵称。按 Ctrl-D(Windows 上是 Ctrl-Z 回车)或输入 /quit 退出。
//!
//! 每次连上,先等服务器的第一句话(最多 10 秒):满员的服务器会说「! 聊天室已满」,
//! 忙不过来的服务器连接都接不了,一句话也等不来。两种情况都要告诉用户,不能一声不吭地挂着。

// 骨架里的 todo!() 让一些参数、导入和常量暂时用不上;所有步骤都写完以后,可以删掉下面这一行。
#![allow(unused_variables, unused_imports, dead_code, unused_mut)]

use std::io::{self, BufRead, BufReader, IsTerminal, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use colored::{Color, Colorize};

use crate::protocol::clean;

/// 在终端里结束输入的按键:Windows 的控制台上是 Ctrl-Z 再回车,别的系统上是 Ctrl-D。
const EOF_KEYS: &str = if cfg!(windows) {
    "Ctrl-Z 回车"
} else {
    "Ctrl-D"
};

/// 往 stdout 打印一行,和 println! 一样;但 stdout 被关掉了也不会 panic。
///
/// 比如 `solution-06 client | head -n 1`:head 读完一行就走了,之后再写 stdout 会失败
/// (Rust 程序忽略 SIGPIPE,写失败是一个错误),而 println! 遇到错误就 panic:收消息的线程一死,
/// 断线以后就再也没人重连。没人看的输出丢掉就是了,客户端在网络上照常收发,
/// 和服务器的 log! 一样(课本第 6 课「日志写不出去」)。
macro_rules! show {
    ($($arg:tt)*) => {{
        let _ = writeln!(io::stdout(), $($arg)*);
    }};
}

/// 连接最多等这么久。
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// 第一次重连前等多久;之后每次翻倍,直到 [`MAX_BACKOFF`]。
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// 一个连接撑过这么久才断,下一次重连才重新从 [`FIRST_BACKOFF`] 开始等。
/// 一连上就被关掉的话,间隔接着翻倍:不能对一个有毛病的服务器每秒敲好几次门。
const STABLE: Duration = Duration::from_secs(10);
/// 连上以后,等服务器说第一句话最多等这么久。
const WELCOME_TIMEOUT: Duration = Duration::from_secs(10);
/// 服务器发来的一行最多读这么多字节。
const MAX_LINE: u64 = 64 * 1024;

// ANCHOR: link
/// 两个线程共享的东西:当前的连接(断线时是 None)、昵称,以及「用户要走了」。
struct Link {
    server: SocketAddr,
    stream: Mutex<Option<TcpStream>>,
    nick: Mutex<Option<String>>,
    quitting: AtomicBool,
}

impl Link {
    fn stream(&self) -> MutexGuard<'_, Option<TcpStream>> {
        self.stream.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn nick(&self) -> MutexGuard<'_, Option<String>> {
        self.nick.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// 发一行。在锁里写:两个线程都会发(打字的一行、重连时的昵称),不能交错。
    fn send(&self, line: &str) -> io::Result<()> {
        match self.stream().as_ref() {
            Some(mut stream) => stream.write_all(format!("{line}\n").as_bytes()),
            None => Err(io::Error::new(
                io::ErrorKind::NotConnected,
                "还没连上服务器",
            )),
        }
    }
}
// ANCHOR_END: link

// ANCHOR: run
/// 第 9 步:连上服务器,开一个线程收消息,自己在主线程里读键盘。
pub fn run(host: &str, port: u16, nick: Option<String>) -> Result<()> {
    // TODO: 第 9 步:连上服务器,等它说第一句话,开一个线程收消息,自己在主线程里读键盘。
    //   - 颜色:io::stdout().is_terminal() 并且没有设置 NO_COLOR 时才要颜色,
    //     用 colored::control::set_override(要不要) 告诉 colored。
    //   - resolve(host, port) 得到地址,TcpStream::connect_timeout(&server, CONNECT_TIMEOUT) 连上;
    //     第一次就连不上,用 with_context 说清楚连的是哪个地址(多半是服务器没开),返回错误,不要重试。
    //   - let (reader, greeting) = greeted(&stream)?;(最多等 WELCOME_TIMEOUT;满员、不说话都是错误)
    //   - 建一个 Arc<Link>(stream 先是 None),用 attach(&link, stream) 把连接放进去(会报上昵称)。
    //   - 打印一行「* 已连上 …,Ctrl-D 退出」,再打印 paint(&greeting)。这一课的客户端都用 show!(…)
    //     打印:它和 println! 一样,只是 stdout 被关掉了也不会 panic(课本「日志写不出去」)。
    //   - 开一个线程跑 receive_forever(&link, reader)(第 11 步),主线程跑 type_and_send(第 10 步),
    //     然后返回 Ok(())。
    todo!("第 9 步:连上 {host}:{port} 的聊天室")
}
// ANCHOR_END: run

/// 把地址解析成第一个 SocketAddr。
fn resolve(host: &str, port: u16) -> Result<SocketAddr> {
    (host, port)
        .to_socket_addrs()
        .with_context(|| format!("无法解析地址 {host}:{port}"))?
        .next()
        .ok_or_else(|| anyhow!("{host}:{port} 没有对应的地址"))
}

/// 等服务器说第一句话,最多等 [`WELCOME_TIMEOUT`]。返回接着读这个连接用的 reader 和那一句话。
///
/// 服务器说的是 `! …`(比如「! 聊天室已满」)、一句话没说就关了连接、或者一直不说话,都是错误。
fn greeted(stream: &TcpStream) -> Result<(BufReader<TcpStream>, String)> {
    // 超时设在连接上,reader 用的副本也一样;等到了就改回「一直等」。
    stream.set_read_timeout(Some(WELCOME_TIMEOUT))?;
    let mut reader = BufReader::new(stream.try_clone().context("无法复制连接")?);
    let mut bytes = Vec::new();
    match (&mut reader).take(MAX_LINE).read_until(b'\n', &mut bytes) {
        Ok(0) => bail!("服务器一句话也没说就关闭了连接"),
        Ok(_) => {}
        Err(err)
            if matches!(
                err.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
            ) =>
        {
            bail!(
                "等了 {} 秒,服务器一句话也没说:它可能忙不过来了(比如连接太多),\
                 或者这个地址上的不是聊天室服务器",
                WELCOME_TIMEOUT.as_secs()
            )
        }
        Err(err) => return Err(err).context("读不到服务器的第一句话"),
    }
    let line = clean(String::from_utf8_lossy(&bytes).trim_end_matches(['\r', '\n']));
    if let Some(why) = line.strip_prefix("! ") {
        bail!("服务器说:{why}");
    }
    stream.set_read_timeout(None)?;
    Ok((reader, line))
}

/// 让一个新连接成为当前连接;已经知道昵称的话,先把昵称报给服务器。
fn attach(link: &Link, stream: TcpStream) -> Result<()> {
    let nick = link.nick().clone();
    let mut current = link.stream();
    if let Some(nick) = nick {
        (&stream)
            .write_all(format!("{nick}\n").as_bytes())
            .context("无法发送昵称")?;
    }
    *current = Some(stream);
    Ok(())
}

// ANCHOR: type_and_send
/// 第 10 步:主线程:一行一行地读键盘,发给服务器,直到 Ctrl-D 或者 /quit。
fn type_and_send(link: &Link) {
    // TODO: 第 10 步:主线程:一行一行地读键盘,发给服务器,直到 Ctrl-D 或者 /quit。
    //   - for line in io::stdin().lock().lines() { … }(Ctrl-D 时循环结束)。
    //   - 记下昵称(重连时要用):以「/nick 」开头就记下新昵称;还没有昵称时,打的第一行就是昵称。
    //   - link.send(line) 失败(断线中):打印一行「! 这一行没有发出去……」。
    //   - 发的是 /quit 就跳出循环。
    //   - 循环结束后:link.quitting.store(true, …) 告诉收消息的线程别再重连,
    //     再把 link.stream() 里的连接 take 出来 shutdown,然后返回。不要 join 收消息的线程:
    //     Windows 上 shutdown 叫不醒卡在 read 上的线程,它要等到服务器关了连接才醒。
    todo!("第 10 步:读键盘并发送")
}
// ANCHOR_END: type_and_send

// ANCHOR: receive_forever
/// 第 11 步:收消息的线程:打印收到的每一行;连接断了就重连,直到用户要走。
fn receive_forever(link: &Link, mut reader: BufReader<TcpStream>) {
    // TODO: 第 11 步:收消息的线程:打印收到的每一行;连接断了就重连,直到用户要走。
    //   - let mut wait = FIRST_BACKOFF;(下一次重连前等多久,跨越多次断线)
    //   - 循环:记下这次连上的时刻,print_lines(&mut reader) 读到断开为止。
    //   - print_lines 返回了:如果 link.quitting 为真(用户按了 Ctrl-D),直接返回。
    //   - 否则打印一行「* 与服务器的连接断开了,正在重连……」,把 link.stream() 设成 None;
    //     这次连接撑过了 STABLE 才断,wait 回到 FIRST_BACKOFF(一连上就断的话,接着翻倍)。
    //   - reconnect(link, &mut wait)(第 12 步)返回 Some(新的 reader) 就接着读它,None 就返回。
    todo!("第 11 步:收消息,断线重连")
}

/// 把服务器发来的每一行打印出来,直到连接关闭或出错。
fn print_lines(reader: &mut BufReader<TcpStream>) {
    loop {
        let mut bytes = Vec::new();
        match reader.take(MAX_LINE).read_until(b'\n', &mut bytes) {
            Ok(0) | Err(_) => return,
            Ok(_) => {
                let text = String::from_utf8_lossy(&bytes);
                show!("{}", paint(&clean(text.trim_end_matches(['\r', '\n']))));
            }
        }
    }
}

/// 第 12 步:每隔一段时间试一次,间隔越来越长(`wait` 记着下一次要等多久)。
/// 连上了、服务器也欢迎了,返回读这个新连接的 reader;用户在这期间要走了返回 None。
fn reconnect(link: &Link, wait: &mut Duration) -> Option<BufReader<TcpStream>> {
    // TODO: 第 12 步:每隔一段时间试一次,间隔越来越长。连上了返回新的 reader;用户在这期间要走了返回 None。
    //   - 循环:thread::sleep(*wait),然后 *wait = (*wait * 2).min(MAX_BACKOFF),再检查 link.quitting。
    //   - TcpStream::connect_timeout 连上以后,greeted(&stream) 等服务器的第一句话,
    //     attach(link, stream) 报上最后的昵称;都成功了就打印「* 已重新连上服务器」和那句话,返回 Some(reader)。
    //     这三个都返回 Result,而这个函数返回 Option,不能直接对它们用 ?:
    //     用 match,或者把它们放进一个返回 Result 的闭包里(.and_then(|stream| { … }))。
    //   - 失败了:打印一行「* 重连失败:原因」,再来。
    todo!("第 12 步:重连")
}
// ANCHOR_END: receive_forever

// ANCHOR: paint
/// 给一行上色:说话的人的昵称按名字挑一种颜色(同一个人总是同一种),
/// 系统通知是黄色,错误是红色。没有颜色时原样输出。
fn paint(line: &str) -> String {
    if line.starts_with("! ") {
        return line.red().to_string();
    }
    if line.starts_with("* ") {
        return line.yellow().to_string();
    }
    if let Some(rest) = line.strip_prefix('[')
        && let Some((who, text)) = rest.split_once("] ")
    {
        let nick = who.split(' ').next().unwrap_or(who);
        return format!(
            "{} {text}",
            format!("[{who}]").color(nick_colour(nick)).bold()
        );
    }
    line.to_owned()
}

fn nick_colour(nick: &str) -> Color {
    const PALETTE: [Color; 6] = [
        Color::Cyan,
        Color::Green,
        Color::Magenta,
        Color::Blue,
        Color::BrightCyan,
        Color::BrightGreen,
    ];
    let hash = nick
        .chars()
        .fold(0usize, |h, c| h.wrapping_mul(31).wrapping_add(c as usize));
    PALETTE[hash % PALETTE.len()]
}
// ANCHOR_END: paint
