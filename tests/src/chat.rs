//! 评分器这一端的聊天室连接:一行一行地收发,并记下收到的每一行(失败时给学员看)。
//!
//! 聊天室里的「等」都是等一行满足条件的文字,比如「bob 收到了 `[alice] 你好`」。
//! 不相干的行(欢迎语、别人进来的通知)照样收下、记下,然后跳过。

use std::io;
use std::net::SocketAddr;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

use crate::tcp::{ReadEnding, TcpClient};

/// 评分器扮演的一个聊天的人(测服务器时),或者评分器扮演的服务器那一端的连接(测客户端时)。
pub struct ChatPeer {
    /// 这个人的昵称(或者给人看的名字)。
    pub nick: String,
    client: TcpClient,
    /// 已经收到、还不满一行的字节。
    pending: Vec<u8>,
    /// 到目前为止收到的每一行(去掉了换行)。
    seen: Vec<String>,
}

/// 没等到想要的那一行:之前收到了什么,读是怎么停下来的。
#[derive(Debug)]
pub struct Missed {
    pub before: Vec<String>,
    pub ending: ReadEnding,
}

impl ChatPeer {
    /// 连上聊天室服务器(还没报昵称)。
    pub fn connect(addr: SocketAddr, nick: &str, deadline: Instant) -> io::Result<ChatPeer> {
        TcpClient::connect(addr, deadline).map(|client| ChatPeer::new(client, nick))
    }

    /// 连上服务器,但接收缓冲区很小:这个人一直不读,服务器很快就写不进去了。
    pub fn connect_slow(addr: SocketAddr, nick: &str, deadline: Instant) -> io::Result<ChatPeer> {
        TcpClient::connect_with_small_buffer(addr, deadline)
            .map(|client| ChatPeer::new(client, nick))
    }

    /// 把一个已有的连接(比如评分器扮演服务器时接到的连接)包装起来。
    pub fn new(client: TcpClient, nick: &str) -> ChatPeer {
        ChatPeer {
            nick: nick.to_owned(),
            client,
            pending: Vec::new(),
            seen: Vec::new(),
        }
    }

    /// 这个连接在评分器这一端的地址。
    pub fn addr(&self) -> SocketAddr {
        self.client.addr()
    }

    /// 发一行(自动加上换行),最多等到截止时间。
    pub fn send_line(&self, line: &str, deadline: Instant) -> io::Result<()> {
        self.send_bytes(format!("{line}\n").as_bytes(), deadline)
    }

    /// 发一段原样的字节(坏的 UTF-8、超长的一行……),最多等到截止时间。
    pub fn send_bytes(&self, bytes: &[u8], deadline: Instant) -> io::Result<()> {
        self.client.send_within(bytes, deadline)
    }

    /// 一直读,直到收到一行满足 `wanted` 的文字。返回在它之前收到的行和它本身。
    ///
    /// 放弃的条件和 [`TcpClient::read_until`] 一样:到了截止时间,或者 `alive()` 为假。
    pub fn wait_for(
        &mut self,
        deadline: Instant,
        mut alive: impl FnMut() -> bool,
        wanted: impl Fn(&str) -> bool,
    ) -> Result<(Vec<String>, String), Missed> {
        let mut before = Vec::new();
        loop {
            match self.next_line(deadline, &mut alive) {
                Ok(line) if wanted(&line) => return Ok((before, line)),
                Ok(line) => before.push(line),
                Err(ending) => return Err(Missed { before, ending }),
            }
        }
    }

    /// 读到对方关闭连接为止,返回这期间收到的行。
    pub fn read_to_close(&mut self, deadline: Instant, alive: impl FnMut() -> bool) -> Missed {
        match self.wait_for(deadline, alive, |_| false) {
            Err(missed) => missed,
            Ok(_) => unreachable!("条件永远为假,不会「等到」"),
        }
    }

    /// 每隔 `every` 发一个字节(从不发换行),同时一直读,直到对方关闭连接、出错,或者到了截止时间。
    /// 返回这期间收到的行,以及读是怎么停下来的。
    ///
    /// 故障注入:一个报昵称报得极慢的人。每一次 read 都等得到数据,一行却永远报不完:
    /// 只给每一次 read 设超时的服务器,会让他一直占着座位。
    pub fn trickle_to_close(&mut self, every: Duration, deadline: Instant) -> Missed {
        let client = &self.client;
        let got = thread::scope(|scope| {
            let (stop, stopped) = mpsc::channel::<()>();
            scope.spawn(move || {
                // 故障注入:等 `every` 再发下一个字节;读的那一边结束了(stop 被丢掉),马上停。
                while stopped.recv_timeout(every) == Err(RecvTimeoutError::Timeout) {
                    if Instant::now() >= deadline || client.send(b"x").is_err() {
                        return;
                    }
                }
            });
            let got = client.read_to_close(deadline, || true);
            drop(stop);
            got
        });
        self.pending.extend_from_slice(&got.bytes);
        let mut before = Vec::new();
        while let Some(end) = self.pending.iter().position(|&b| b == b'\n') {
            before.push(self.take_line(end));
        }
        Missed {
            before,
            ending: got.ending,
        }
    }

    /// 从 `pending` 里取出到 `end`(换行的位置)为止的一行,记下它。
    fn take_line(&mut self, end: usize) -> String {
        let text = String::from_utf8_lossy(&self.pending[..end])
            .trim_end_matches('\r')
            .to_owned();
        // 不逐个字节地取出来(第 6 项检查一次要读几兆字节,没有优化的评分器会慢得多),整段挪走。
        self.pending.drain(..=end);
        self.seen.push(text.clone());
        text
    }

    /// 读下一行。
    fn next_line(
        &mut self,
        deadline: Instant,
        alive: &mut dyn FnMut() -> bool,
    ) -> Result<String, ReadEnding> {
        loop {
            if let Some(end) = self.pending.iter().position(|&b| b == b'\n') {
                return Ok(self.take_line(end));
            }
            let got = self
                .client
                .read_until(deadline, &mut *alive, |bytes| bytes.contains(&b'\n'));
            self.pending.extend_from_slice(&got.bytes);
            if got.ending != ReadEnding::Found && !self.pending.contains(&b'\n') {
                return Err(got.ending);
            }
        }
    }

    /// 到目前为止收到的行,最后 `n` 行,每行一个「  」缩进,给失败信息用。
    pub fn transcript(&self, n: usize) -> String {
        let mut shown: Vec<String> = Vec::new();
        let skip = self.seen.len().saturating_sub(n);
        if skip > 0 {
            shown.push(format!("  ……(前面还有 {skip} 行)"));
        }
        shown.extend(
            self.seen[skip..]
                .iter()
                .map(|line| format!("  {}", crate::text::show_text(line))),
        );
        if shown.is_empty() {
            format!("{} 一行也没有收到", self.nick)
        } else {
            format!("{} 收到的行:\n{}", self.nick, shown.join("\n"))
        }
    }

    /// 不再发送(关闭发送方向)。另一个线程正卡在给这个连接写东西时,它会马上返回一个错误。
    pub fn stop_sending(&self) {
        self.client.finish_sending();
    }

    /// 重置连接(发 RST),就像这个人的程序被强行结束、网线被拔掉。
    pub fn reset(self) {
        self.client.reset();
    }
}
