//! `course nc`:一个在 Linux、macOS 和 Windows 上用法完全一样的小 netcat。
//!
//! ```text
//! cargo run -q -p course -- nc 127.0.0.1 8998                    TCP:键盘上打的字发过去,回复打印出来
//! cargo run -q -p course -- nc -u 127.0.0.1 7852                 UDP:每一行(连同 \n)是一个数据报
//! printf '你好' | cargo run -q -p course -- nc -u -w 1 127.0.0.1 7852    输入结束后再等 1 秒回复
//! cargo run -q -p course -- nc -l 127.0.0.1 8998                 TCP:你来扮演服务器,等一个客户端连上来
//! ```
//!
//! 失败信息里的「手动重现」都用它:Windows 没有 nc,macOS 的 nc 和 Linux 的选项又不一样。
//! 和常见的 nc 相比,它为初学者做了三个选择:
//!
//! - 收到的字节照原样打印,但看不见的控制字符显示成 `\r`、`\x1b`、`\0` 这样,坏的 UTF-8
//!   字节显示成 `\xff`:多出来的 `\r`、一串 NUL 一眼就能看见(`\n` 和 `\t` 照常换行、缩进);
//! - TCP:输入结束(Ctrl-D;Windows 上是 Ctrl-Z 再回车)时关闭发送方向,就像 `nc -N`,
//!   然后继续读,直到服务器关闭连接;
//! - `-w 秒数`:输入结束以后,这么久什么也没收到,就说一声然后退出;
//! - `-l`:不去连别人,而是在 HOST PORT 上监听,接受一个客户端;之后和连出去时一样收发,
//!   客户端关闭连接时退出(测第 5 课的客户端时,你来扮演服务器);
//! - 在 Windows 的控制台里打字时,回车发出去的是 `\n`(不是控制台读到的 `\r\n`),和别的系统一样。
//!
//! 设计:一个线程把 stdin 发出去,一个线程收,两者都把发生的事放进同一个通道;主线程按顺序
//! 处理这些事件,只有它打印。这样「输入结束以后再等 N 秒」就是一次带期限的 `recv_timeout`,
//! 不需要轮询,也不需要在别的线程正阻塞着的套接字上改超时。

use std::io::{self, BufRead, IsTerminal, Read, Write};
use std::net::{
    IpAddr, Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs,
    UdpSocket,
};
use std::process::ExitCode;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};

/// 最大的 UDP 数据报(IPv6 上可以比 IPv4 的 65507 字节稍大一点)。
const MAX_DATAGRAM: usize = 65_535;

/// `course nc --help` 的格式。
pub const HELP: &str = "{about}\n\n用法: cargo run -q -p course -- nc [-u | -l] [-w SECONDS] HOST PORT\n\n\
    参数:\n{positionals}\n\n选项:\n{options}\n\n\
    收到的控制字符显示成 \\r、\\x1b、\\0,坏的 UTF-8 显示成 \\xff。\n\
    TCP:输入结束(Ctrl-D;Windows 上是 Ctrl-Z 再回车)时关闭发送方向,继续读到服务器关闭连接。\n\
    -l:在 HOST PORT 上监听,只接受一个客户端(端口写 0 就由系统挑一个,地址打印在 stderr 上)。";

#[derive(clap::Args)]
pub struct NcArgs {
    /// 用 UDP:stdin 的每一行(连同换行符)作为一个数据报发出去
    #[arg(short = 'u')]
    udp: bool,

    /// 扮演服务器:在 HOST PORT 上监听 TCP 连接,接受一个客户端,和它收发,它关闭连接时退出
    #[arg(short = 'l', conflicts_with = "udp")]
    listen: bool,

    /// 输入结束以后,这么多秒什么也没收到就退出(不写就一直等:TCP 等服务器关闭连接,UDP 等到 Ctrl-C)
    #[arg(short = 'w', value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..))]
    wait: Option<u64>,

    /// 服务器的地址:127.0.0.1、localhost、::1 或 [::1]
    host: String,

    /// 服务器的端口
    port: u16,
}

/// 两个工作线程告诉主线程的事。
enum Event {
    /// 收到了字节:TCP 的一段字节流,或者 UDP 的一个数据报。
    Received(Vec<u8>),
    /// TCP:服务器关闭了连接(读到了 EOF)。
    Closed,
    /// 收数据时出错了;收的线程已经停下。
    ReceiveFailed(io::Error),
    /// 发数据时出错了。
    SendFailed(io::Error),
    /// stdin 读完了:不会再发送什么了。
    InputDone,
}

pub fn run(args: &NcArgs) -> Result<ExitCode> {
    let host = args.host.trim_start_matches('[').trim_end_matches(']');
    let mut addrs: Vec<SocketAddr> = (host, args.port)
        .to_socket_addrs()
        .with_context(|| format!("找不到主机 {host}(地址写对了吗?本机就写 127.0.0.1)"))?
        .collect();
    // 课程里的服务器默认都绑定 127.0.0.1,所以 localhost 先试 IPv4。
    addrs.sort_by_key(SocketAddr::is_ipv6);
    let (events, inbox) = mpsc::channel();
    let protocol = if args.udp {
        start_udp(&addrs, events)?
    } else if args.listen {
        start_listening(&addrs, events)?
    } else {
        start_tcp(&addrs, events)?
    };
    let wait = args.wait.map(Duration::from_secs);
    Ok(relay(protocol, &inbox, wait))
}

/// 连上的是哪一种,以及连到了哪里(用在错误信息里)。
#[derive(Clone, Copy)]
enum Protocol {
    Tcp(SocketAddr),
    Udp(SocketAddr),
}

/// 依次试每个地址,连上第一个能连上的;收和发各交给一个线程。
fn start_tcp(addrs: &[SocketAddr], events: Sender<Event>) -> Result<Protocol> {
    let mut last_error = None;
    let mut stream = None;
    for &addr in addrs {
        match TcpStream::connect(addr) {
            Ok(connected) => {
                stream = Some(connected);
                break;
            }
            Err(err) => last_error = Some((addr, err)),
        }
    }
    let Some(stream) = stream else {
        let Some((addr, err)) = last_error else {
            bail!("这个主机名没有对应任何地址");
        };
        return Err(match err.kind() {
            io::ErrorKind::ConnectionRefused => anyhow!(
                "连接 {addr} 被拒绝:那里没有程序在监听 TCP 连接。服务器启动了吗?端口对吗?({err})"
            ),
            io::ErrorKind::TimedOut => anyhow!("连接 {addr} 超时了:对方一直没有回应({err})"),
            _ => anyhow!("无法连接 {addr}: {err}"),
        });
    };
    start_stream(stream, events)
}

/// `-l`:在第一个能绑定的地址上监听,等一个客户端连上来;之后和连出去的一样。
///
/// 只接受一个:nc 是手动试一试的工具,一次和一个人说话。地址打印在 stderr 上,
/// 端口写 0 时,从这里知道系统挑了哪个端口。
fn start_listening(addrs: &[SocketAddr], events: Sender<Event>) -> Result<Protocol> {
    let mut last_error = None;
    let mut listener = None;
    for &addr in addrs {
        match TcpListener::bind(addr) {
            Ok(bound) => {
                listener = Some(bound);
                break;
            }
            Err(err) => last_error = Some((addr, err)),
        }
    }
    let Some(listener) = listener else {
        let Some((addr, err)) = last_error else {
            bail!("这个主机名没有对应任何地址");
        };
        return Err(match err.kind() {
            io::ErrorKind::AddrInUse => {
                anyhow!("无法在 {addr} 上监听:这个端口已经有程序在用了(你的服务器还开着吗?)({err})")
            }
            _ => anyhow!("无法在 {addr} 上监听: {err}"),
        });
    };
    let addr = listener.local_addr().context("读不到监听的地址")?;
    eprintln!("正在监听 {addr},等一个客户端连上来……");
    let (stream, peer) = listener.accept().context("接受连接时出错")?;
    eprintln!("{peer} 连上来了");
    start_stream(stream, events)
}

/// 连接建立以后:收和发各交给一个线程。
fn start_stream(stream: TcpStream, events: Sender<Event>) -> Result<Protocol> {
    let addr = stream.peer_addr().context("读不到对方的地址")?;
    let reading = stream.try_clone().context("无法复制套接字")?;
    let done = events.clone();
    thread::spawn(move || receive_stream(reading, &done));
    thread::spawn(move || send_stream(stream, &events));
    Ok(Protocol::Tcp(addr))
}

/// 把 stdin 上来的字节一到就发出去;stdin 结束时关闭发送方向(像 `nc -N`)。
fn send_stream(mut stream: TcpStream, events: &Sender<Event>) {
    let console = windows_console();
    let mut stdin = io::stdin().lock();
    let mut buf = [0u8; 8192];
    loop {
        let n = match stdin.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            // 读不了 stdin(比如它不是文本)就当作输入结束。
            Err(_) => break,
        };
        let n = if console {
            typed_line_end(&mut buf[..n])
        } else {
            n
        };
        if let Err(err) = stream.write_all(&buf[..n]) {
            let _ = events.send(Event::SendFailed(err));
            break;
        }
    }
    // 告诉服务器「我说完了」,但还接着听它说。连接已经断了的话,这里的错误没有意义。
    let _ = stream.shutdown(Shutdown::Write);
    let _ = events.send(Event::InputDone);
}

/// 把服务器发来的字节流一段一段地交给主线程,直到它关闭连接。
fn receive_stream(mut stream: TcpStream, events: &Sender<Event>) {
    let mut buf = vec![0u8; 8192];
    loop {
        let event = match stream.read(&mut buf) {
            Ok(0) => Event::Closed,
            Ok(n) => Event::Received(buf[..n].to_vec()),
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => Event::ReceiveFailed(err),
        };
        let last = !matches!(event, Event::Received(_));
        if events.send(event).is_err() || last {
            return;
        }
    }
}

/// UDP 没有「连接」;这里的 connect 只是让系统记住对方:之后 send 就发给它,recv 只收它的数据报,
/// 而且对方的端口没有程序时,系统能把「端口不可达」报告给我们。
fn start_udp(addrs: &[SocketAddr], events: Sender<Event>) -> Result<Protocol> {
    let Some(&addr) = addrs.first() else {
        bail!("这个主机名没有对应任何地址");
    };
    // 目标在本机时只绑定回环地址:别人连不上这个临时端口,Windows 也不会为它弹出防火墙的询问。
    let local: IpAddr = match (addr.ip().is_loopback(), addr.is_ipv4()) {
        (true, true) => Ipv4Addr::LOCALHOST.into(),
        (true, false) => Ipv6Addr::LOCALHOST.into(),
        (false, true) => Ipv4Addr::UNSPECIFIED.into(),
        (false, false) => Ipv6Addr::UNSPECIFIED.into(),
    };
    let socket = UdpSocket::bind((local, 0)).context("无法打开 UDP 套接字")?;
    socket
        .connect(addr)
        .with_context(|| format!("无法把 UDP 套接字指向 {addr}"))?;

    let receiving = socket.try_clone().context("无法复制套接字")?;
    let done = events.clone();
    thread::spawn(move || receive_datagrams(&receiving, &done));
    thread::spawn(move || send_lines(&socket, &events));
    Ok(Protocol::Udp(addr))
}

/// stdin 的每一行(连同 `\n`)是一个数据报;最后没有换行的半行也是。空的 stdin 什么也不发。
fn send_lines(socket: &UdpSocket, events: &Sender<Event>) {
    let console = windows_console();
    let mut stdin = io::stdin().lock();
    let mut line = Vec::new();
    loop {
        line.clear();
        match stdin.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        if console {
            let n = typed_line_end(&mut line);
            line.truncate(n);
        }
        if let Err(err) = socket.send(&line) {
            let gone = is_unreachable(&err);
            let _ = events.send(Event::SendFailed(err));
            if gone {
                break;
            }
        }
    }
    let _ = events.send(Event::InputDone);
}

/// stdin 是不是 Windows 的控制台(在终端里打字,而不是管道或文件)。
fn windows_console() -> bool {
    cfg!(windows) && io::stdin().is_terminal()
}

/// Windows 的控制台把回车读成 `\r\n`。在那里打字时,把行尾换回 `\n`,和 Linux、macOS 上一样:
/// 否则第 1、3 课的回声服务器会把多出来的 `\r` 原样发回来,字节数也对不上课本。
/// 返回换过以后的长度。从管道和文件来的输入不经过这里,一个字节也不改。
fn typed_line_end(bytes: &mut [u8]) -> usize {
    match bytes {
        [.., b'\r', b'\n'] => {
            let n = bytes.len();
            bytes[n - 2] = b'\n';
            n - 1
        }
        _ => bytes.len(),
    }
}

/// 每收到一个数据报,就原样交给主线程。
fn receive_datagrams(socket: &UdpSocket, events: &Sender<Event>) {
    let mut buf = vec![0u8; MAX_DATAGRAM];
    loop {
        let event = match socket.recv(&mut buf) {
            Ok(n) => Event::Received(buf[..n].to_vec()),
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => Event::ReceiveFailed(err),
        };
        let last = matches!(event, Event::ReceiveFailed(_));
        if events.send(event).is_err() || last {
            return;
        }
    }
}

/// UDP 的对方端口上没有程序:Linux 和 macOS 报 ConnectionRefused,
/// Windows 报 ConnectionReset(os error 10054)。
fn is_unreachable(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::ConnectionRefused | io::ErrorKind::ConnectionReset
    )
}

/// 主线程:按顺序处理事件,打印收到的字节,决定什么时候结束。
fn relay(protocol: Protocol, inbox: &Receiver<Event>, wait: Option<Duration>) -> ExitCode {
    let mut screen = Screen::new();
    // 输入结束以后,最后一次「有东西到达」的时刻;-w 的计时从这里算起。
    let mut idle_since: Option<Instant> = None;
    loop {
        let event = match (wait, idle_since) {
            (Some(wait), Some(since)) => {
                let left = (since + wait).saturating_duration_since(Instant::now());
                match inbox.recv_timeout(left) {
                    Ok(event) => event,
                    Err(RecvTimeoutError::Timeout) => {
                        screen.note(&format!("(等了 {} 秒,没有更多数据)", wait.as_secs()));
                        return ExitCode::SUCCESS;
                    }
                    // 两个线程都结束了,而且没有说连接关闭:不会再有任何事发生。
                    Err(RecvTimeoutError::Disconnected) => return ExitCode::SUCCESS,
                }
            }
            _ => match inbox.recv() {
                Ok(event) => event,
                Err(_) => return ExitCode::SUCCESS,
            },
        };
        match event {
            Event::Received(bytes) => {
                let whole = matches!(protocol, Protocol::Udp(_));
                if !screen.show(&bytes, whole) {
                    // stdout 被关掉了(比如接在 head 后面):没人看了,安静地结束。
                    return ExitCode::SUCCESS;
                }
                if idle_since.is_some() {
                    idle_since = Some(Instant::now());
                }
            }
            Event::InputDone => idle_since = Some(Instant::now()),
            Event::Closed => {
                screen.finish();
                return ExitCode::SUCCESS;
            }
            Event::SendFailed(err)
                if matches!(protocol, Protocol::Udp(_)) && is_unreachable(&err) =>
            {
                return screen.fail(&unreachable_udp(protocol, &err));
            }
            Event::SendFailed(err) => {
                screen.note(&format!("(发送失败: {err})"));
            }
            Event::ReceiveFailed(err) => {
                screen.finish();
                let message = match protocol {
                    Protocol::Udp(_) if is_unreachable(&err) => unreachable_udp(protocol, &err),
                    Protocol::Tcp(addr) if err.kind() == io::ErrorKind::ConnectionReset => {
                        format!("连接被 {addr} 重置了:对方没有好好关闭连接,而是直接断开({err})")
                    }
                    Protocol::Tcp(addr) | Protocol::Udp(addr) => {
                        format!("从 {addr} 接收数据时出错: {err}")
                    }
                };
                return screen.fail(&message);
            }
        }
    }
}

fn unreachable_udp(protocol: Protocol, err: &io::Error) -> String {
    let (Protocol::Tcp(addr) | Protocol::Udp(addr)) = protocol;
    format!(
        "{addr} 上没有程序在接收 UDP 数据报(对方的系统回了「端口不可达」)。服务器启动了吗?端口对吗?({err})"
    )
}

/// 往 stdout 打印收到的字节,往 stderr 写说明;记着 stdout 是不是停在一行的中间。
struct Screen {
    /// TCP 的一段字节流可能在一个汉字的中间断开:没凑齐的 UTF-8 字节先留着,和下一段拼起来。
    pending: Vec<u8>,
    /// stdout 上最后打印的是不是换行(或者还什么都没打印)。
    at_line_start: bool,
}

impl Screen {
    fn new() -> Screen {
        Screen {
            pending: Vec::new(),
            at_line_start: true,
        }
    }

    /// 打印收到的字节;`whole` 为真时这是一个完整的数据报,不等后续字节。
    /// stdout 写不进去时返回 false。
    fn show(&mut self, bytes: &[u8], whole: bool) -> bool {
        self.pending.extend_from_slice(bytes);
        let (text, rest) = visible(&self.pending, whole);
        self.pending = rest;
        self.write(&text)
    }

    /// 连接结束了:没凑齐的字节也按坏字节显示出来。
    fn finish(&mut self) {
        let (text, _) = visible(&std::mem::take(&mut self.pending), true);
        self.write(&text);
    }

    fn write(&mut self, text: &str) -> bool {
        if text.is_empty() {
            return true;
        }
        self.at_line_start = text.ends_with('\n');
        let mut stdout = io::stdout().lock();
        stdout
            .write_all(text.as_bytes())
            .and_then(|()| stdout.flush())
            .is_ok()
    }

    /// 在 stderr 上写一句说明。stdout 停在一行中间时(终端里两者混在一起),先换一行。
    fn note(&mut self, message: &str) {
        let fresh_line = if self.at_line_start || !io::stdout().is_terminal() {
            ""
        } else {
            "\n"
        };
        eprintln!("{fresh_line}{message}");
    }

    fn fail(&mut self, message: &str) -> ExitCode {
        self.note(&format!("错误: {message}"));
        ExitCode::FAILURE
    }
}

/// 把字节变成看得见的文字:`\n` 和 `\t` 照常,其他控制字符写成 `\r`、`\0`、`\x1b`、`\u{85}`,
/// 坏的 UTF-8 字节写成 `\xff`。
///
/// `complete` 为假时,末尾一个还没凑齐的 UTF-8 序列不算坏字节,原样留在返回值的第二项里,
/// 等下一段字节到了再拼上。
fn visible(bytes: &[u8], complete: bool) -> (String, Vec<u8>) {
    let mut text = String::new();
    let mut rest = bytes;
    loop {
        match std::str::from_utf8(rest) {
            Ok(valid) => {
                escape_into(valid, &mut text);
                return (text, Vec::new());
            }
            Err(err) => {
                let (valid, after) = rest.split_at(err.valid_up_to());
                // valid_up_to 之前的字节一定是合法的 UTF-8。
                escape_into(std::str::from_utf8(valid).unwrap_or_default(), &mut text);
                let bad = match err.error_len() {
                    Some(len) => len,
                    // 末尾的序列只是还没收完。
                    None if !complete => return (text, after.to_vec()),
                    None => after.len(),
                };
                for byte in &after[..bad] {
                    text.push_str(&format!("\\x{byte:02x}"));
                }
                rest = &after[bad..];
            }
        }
    }
}

fn escape_into(valid: &str, text: &mut String) {
    for c in valid.chars() {
        match c {
            '\n' | '\t' => text.push(c),
            '\r' => text.push_str("\\r"),
            '\0' => text.push_str("\\0"),
            c if c.is_ascii_control() => text.push_str(&format!("\\x{:02x}", u32::from(c))),
            c if c.is_control() => text.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
            c => text.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(bytes: &[u8]) -> String {
        visible(bytes, true).0
    }

    #[test]
    fn text_newlines_and_tabs_are_printed_as_they_are() {
        assert_eq!(shown("你好,世界\n\tok\n".as_bytes()), "你好,世界\n\tok\n");
    }

    #[test]
    fn control_bytes_and_invalid_utf8_become_visible() {
        assert_eq!(shown(b"hi\r\n"), "hi\\r\n");
        assert_eq!(shown(b"\x1b[31mred\x1b[0m"), "\\x1b[31mred\\x1b[0m");
        assert_eq!(shown(b"\0\0\0"), "\\0\\0\\0");
        assert_eq!(shown(b"\x7f"), "\\x7f");
        assert_eq!(shown("\u{85}".as_bytes()), "\\u{85}");
        assert_eq!(shown(b"\xff\xfe hi"), "\\xff\\xfe hi");
    }

    #[test]
    fn a_character_split_between_two_reads_is_joined_again() {
        let bytes = "你好".as_bytes();
        let (first, pending) = visible(&bytes[..4], false);
        assert_eq!(first, "你");
        assert_eq!(pending, &bytes[3..4]);
        let mut joined = pending;
        joined.extend_from_slice(&bytes[4..]);
        assert_eq!(visible(&joined, false), ("好".to_owned(), Vec::new()));
    }

    #[test]
    fn a_line_typed_on_the_windows_console_ends_in_a_plain_newline() {
        let mut typed = *b"hi\r\n";
        assert_eq!(typed_line_end(&mut typed), 3);
        assert_eq!(&typed[..3], b"hi\n");
        let mut unix = *b"hi\n";
        assert_eq!(typed_line_end(&mut unix), 3);
        let mut partial = *b"hi\r";
        assert_eq!(typed_line_end(&mut partial), 3);
    }

    #[test]
    fn an_unfinished_character_at_the_end_shows_as_bad_bytes() {
        let bytes = "你".as_bytes();
        assert_eq!(shown(&bytes[..2]), "\\xe4\\xbd");
        // 在中间坏掉的序列不是「还没收完」,不会被留下来。
        assert_eq!(
            visible(b"\xe4\xbdx", false),
            ("\\xe4\\xbdx".to_owned(), Vec::new())
        );
    }
}
