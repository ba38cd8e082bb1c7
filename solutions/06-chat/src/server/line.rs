//! 读一行(第 8 步),和给「报昵称」设时限的读端。

use std::io::{self, BufRead, Read};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use super::is_timeout;
use super::outbox::Outbox;
use crate::protocol::MAX_LINE;

// ANCHOR: read_line
/// 第 8 步:读一行:读到 `\n` 为止(去掉行尾的 `\r\n` 或 `\n`),坏的 UTF-8 变成 �。
/// 对方关闭了连接时返回 `Ok(None)`;一行太长、超时都是错误,这个客户端会被断开。
pub(super) fn read_line(reader: &mut impl BufRead) -> Result<Option<String>, LineError> {
    // ANCHOR: step-8
    let mut bytes = Vec::new();
    // take 限制这一次最多读多少字节:再长的一行也只会占用 MAX_LINE 多一点的内存。
    let limit = (MAX_LINE + 2) as u64;
    let n = reader
        .by_ref()
        .take(limit)
        .read_until(b'\n', &mut bytes)
        .map_err(LineError::from)?;
    if n == 0 {
        return Ok(None);
    }
    if bytes.ends_with(b"\n") {
        bytes.pop();
        if bytes.ends_with(b"\r") {
            bytes.pop();
        }
    }
    if bytes.len() > MAX_LINE {
        return Err(LineError::TooLong);
    }
    Ok(Some(String::from_utf8_lossy(&bytes).into_owned()))
    // ANCHOR_END: step-8
}
// ANCHOR_END: read_line

// ANCHOR: timed
/// 一个可以设「截止时间」的读端:截止时间之前,每一次 read 最多只等到截止时间;
/// 过了截止时间,read 返回 TimedOut。没有截止时间时,就是普通的阻塞读。
///
/// 为什么不直接用 set_read_timeout?它管的是「一次 read」,不是「一整行」:
/// 一个每隔几秒发一个字节的人,每次 read 都不超时,却能一直占着这个连接。
///
/// 它还留意这个人的信箱:信箱关了(他跟不上被放弃了),read 就像连接关闭一样返回 0。
/// Linux 和 macOS 上,放弃他时的 shutdown 本来就会叫醒阻塞在 read 上的线程;Windows 上不会
/// (rust-lang/rust#121594),所以在 Windows 上每次 read 最多等 [`WAKE`],醒来看一眼信箱。
pub(super) struct Timed<'a> {
    stream: &'a TcpStream,
    outbox: &'a Outbox,
    pub(super) deadline: Option<Instant>,
    /// 上一次 read 用的超时,没变就不用再告诉系统一遍。
    timeout: Option<Duration>,
}

/// Windows 上,读线程最多这么久醒来一次,看看他是不是已经被放弃了(见 [`Timed`])。
const WAKE: Option<Duration> = if cfg!(windows) {
    Some(Duration::from_millis(200))
} else {
    None
};

impl<'a> Timed<'a> {
    pub(super) fn new(stream: &'a TcpStream, outbox: &'a Outbox) -> Timed<'a> {
        Timed {
            stream,
            outbox,
            deadline: None,
            timeout: None,
        }
    }
}

impl Read for Timed<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if self.outbox.is_closed() {
                return Ok(0);
            }
            let left = match self.deadline {
                None => None,
                Some(deadline) => match deadline.checked_duration_since(Instant::now()) {
                    Some(left) if !left.is_zero() => Some(left),
                    _ => return Err(io::ErrorKind::TimedOut.into()),
                },
            };
            let timeout = match (left, WAKE) {
                (Some(left), Some(wake)) => Some(left.min(wake)),
                (left, wake) => left.or(wake),
            };
            if timeout != self.timeout {
                self.stream.set_read_timeout(timeout)?;
                self.timeout = timeout;
            }
            match self.stream.read(buf) {
                // 只是醒来看一眼(还没到截止时间):回到开头,看信箱,再读。
                Err(err) if is_timeout(&err) && timeout != left => continue,
                result => return result,
            }
        }
    }
}
// ANCHOR_END: timed

/// 读一行时可能出的错。
#[derive(Debug)]
pub(super) enum LineError {
    TooLong,
    TimedOut,
    Io(io::Error),
}

impl From<io::Error> for LineError {
    fn from(err: io::Error) -> LineError {
        match err.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => LineError::TimedOut,
            _ => LineError::Io(err),
        }
    }
}

impl std::fmt::Display for LineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LineError::TooLong => write!(f, "一行最多 {MAX_LINE} 字节"),
            LineError::TimedOut => write!(f, "太久没有报上昵称,再见"),
            LineError::Io(err) => write!(f, "读取失败: {err}"),
        }
    }
}

impl std::error::Error for LineError {}
