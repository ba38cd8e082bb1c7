//! 评分器这一端的 TCP:扮演客户端(测服务器时)或服务器(测客户端时),
//! 并且会「使坏」:分两次写、慢慢读、一言不发、半路重置连接。

use std::io::{self, Read, Write};
use std::net::{IpAddr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use socket2::{Domain, SockRef, Socket, Type};

use crate::failure::Failure;
use crate::grader::scaled;
use crate::udp::{AFTER_EXIT, is_timeout};

/// 每隔这么久问一次对方进程是否还活着(见 [`TcpClient::read_until`])。
const SLICE: Duration = Duration::from_millis(50);

/// 评分器的一个 TCP 连接。
pub struct TcpClient {
    stream: TcpStream,
}

/// 从连接上读到的东西,以及读是怎么停下来的。
#[derive(Debug, Default)]
pub struct Received {
    pub bytes: Vec<u8>,
    pub ending: ReadEnding,
}

#[derive(Debug, Default, PartialEq, Eq)]
pub enum ReadEnding {
    /// 等到了想要的东西(比如一个换行)。
    #[default]
    Found,
    /// 对方关闭了连接(读到 EOF)。
    Closed,
    /// 连接被重置或出了别的错。
    Error(String),
    /// 期限到了,或者对方进程已经退出。
    GaveUp,
}

impl TcpClient {
    /// 连接 `addr`,最多等到截止时间。
    pub fn connect(addr: SocketAddr, deadline: Instant) -> io::Result<TcpClient> {
        let left = deadline
            .saturating_duration_since(Instant::now())
            .max(SLICE);
        let stream = TcpStream::connect_timeout(&addr, left)?;
        Ok(TcpClient { stream })
    }

    /// 连接 `addr`,但把自己的接收缓冲区设得很小:对方写得多了就只能等我们读。
    pub fn connect_with_small_buffer(addr: SocketAddr, deadline: Instant) -> io::Result<TcpClient> {
        let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
        socket.set_recv_buffer_size(4096)?;
        let left = deadline
            .saturating_duration_since(Instant::now())
            .max(SLICE);
        socket.connect_timeout(&addr.into(), left)?;
        Ok(TcpClient {
            stream: socket.into(),
        })
    }

    /// 在另一个线程里一直读这个连接,直到对方把它关掉(或者重置),最多读到 `deadline`:
    /// 返回的接收端会收到读是怎么停下来的,以及从 `started` 起过了多久。`started` 要取在
    /// 连接之前:对方的计时不可能早于它开始,量出来的时间只会偏长,不会偏短。
    ///
    /// 用来量「对方过了多久才断开这个连接」,同时评分器可以去做别的事。线程最晚在
    /// `deadline` 结束,不会留下来。
    pub fn watch_close(
        &self,
        started: Instant,
        deadline: Instant,
    ) -> mpsc::Receiver<(ReadEnding, Duration)> {
        let (tx, rx) = mpsc::channel();
        match self.stream.try_clone() {
            Ok(stream) => {
                let watched = TcpClient { stream };
                thread::spawn(move || {
                    let ending = watched.read_to_close(deadline, || true).ending;
                    let _ = tx.send((ending, started.elapsed()));
                });
            }
            Err(err) => {
                let _ = tx.send((ReadEnding::Error(err.to_string()), Duration::ZERO));
            }
        }
        rx
    }

    /// 这个连接在评分器这一端的地址(服务器看到的「客户端地址」)。
    pub fn addr(&self) -> SocketAddr {
        self.stream.local_addr().expect("已连接的套接字一定有地址")
    }

    /// 把字节全部写出去。对方已经关闭或重置了连接时会失败。
    pub fn send(&self, bytes: &[u8]) -> io::Result<()> {
        (&self.stream).write_all(bytes)
    }

    /// 把字节全部写出去,最多等到截止时间:对方一直不读(我们的发送缓冲区满了)时,
    /// 到期返回 TimedOut 或 WouldBlock,而不是永远卡住。
    pub fn send_within(&self, bytes: &[u8], deadline: Instant) -> io::Result<()> {
        let left = deadline
            .saturating_duration_since(Instant::now())
            .max(Duration::from_millis(1));
        self.stream.set_write_timeout(Some(left))?;
        (&self.stream).write_all(bytes)
    }

    /// 关闭发送方向:对方会读到 EOF,但我们还能继续读它的回复。
    pub fn finish_sending(&self) {
        // 连接已经断了时会失败;那样的话对方本来就会读到 EOF 或错误,无需处理。
        let _ = self.stream.shutdown(Shutdown::Write);
    }

    /// 一直读到 `done(已读到的字节)` 为真、对方关闭连接、出错,或者放弃为止。
    ///
    /// 放弃的条件:到了截止时间,或者 `alive()` 为假(对方进程已经退出)之后
    /// 又过了 [`AFTER_EXIT`] 还没读到关闭。
    pub fn read_until(
        &self,
        deadline: Instant,
        mut alive: impl FnMut() -> bool,
        done: impl Fn(&[u8]) -> bool,
    ) -> Received {
        let mut received = Received::default();
        let mut buf = [0u8; 8192];
        let mut deadline = deadline;
        let mut exited = false;
        let _status = crate::status::waiting_for_peer(
            "发来数据",
            deadline.saturating_duration_since(Instant::now()),
        );
        loop {
            if done(&received.bytes) {
                received.ending = ReadEnding::Found;
                return received;
            }
            let now = Instant::now();
            if now >= deadline {
                received.ending = ReadEnding::GaveUp;
                return received;
            }
            let slice = (deadline - now).min(SLICE);
            self.stream
                .set_read_timeout(Some(slice))
                .expect("非零的超时总是合法的");
            match (&self.stream).read(&mut buf) {
                Ok(0) => {
                    received.ending = ReadEnding::Closed;
                    return received;
                }
                Ok(n) => received.bytes.extend_from_slice(&buf[..n]),
                // 对方的程序退出了:它发出的字节和随后的关闭可能还在路上(见 udp 模块的
                // AFTER_EXIT),再读一小会儿,读到关闭就停。
                Err(err) if is_timeout(&err) && !exited && !alive() => {
                    exited = true;
                    deadline = deadline.min(Instant::now() + scaled(AFTER_EXIT));
                }
                Err(err) if is_timeout(&err) => {}
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => {
                    received.ending = ReadEnding::Error(describe_io_error(&err));
                    return received;
                }
            }
        }
    }

    /// 读到对方关闭连接为止。
    pub fn read_to_close(&self, deadline: Instant, alive: impl FnMut() -> bool) -> Received {
        self.read_until(deadline, alive, |_| false)
    }

    /// 读到第一个换行为止。
    pub fn read_line(&self, deadline: Instant, alive: impl FnMut() -> bool) -> Received {
        self.read_until(deadline, alive, |bytes| bytes.contains(&b'\n'))
    }

    /// 停顿 `pause`,同时留意对方有没有在这段时间里发来东西。
    ///
    /// 这是故障注入的一部分(比如「消息分两次写,中间停一下」),不是同步手段:
    /// 停顿期间收到回复,本身就说明对方没等消息写完就回复了。
    pub fn pause_and_listen(&self, pause: Duration) -> Vec<u8> {
        self.read_until(Instant::now() + pause, || true, |_| false)
            .bytes
    }

    /// 重置连接:把 SO_LINGER 设为 0 再关闭,内核会发 RST 而不是正常的 FIN。
    /// 对方下一次读写会得到「连接被重置」(ConnectionReset)。
    pub fn reset(self) {
        // 设置失败的话,退而求其次,就是一次普通的关闭。
        let _ = SockRef::from(&self.stream).set_linger(Some(Duration::ZERO));
        drop(self.stream);
    }
}

/// 故障注入里的停顿:模拟一个慢吞吞的对方(比如读得很慢的客户端)。
///
/// 这是场景的一部分,不是同步手段:评分从不靠停顿来「等对方做完什么」,
/// 等待一律是有期限地等一个信号(数据、输出、退出)。停顿要短。
pub fn stall(pause: Duration) {
    thread::sleep(pause);
}

/// 用中文描述一个 I/O 错误。
pub fn describe_io_error(err: &io::Error) -> String {
    match err.kind() {
        io::ErrorKind::ConnectionReset => format!("连接被对方重置({err})"),
        io::ErrorKind::ConnectionAborted => format!("连接被中止({err})"),
        io::ErrorKind::BrokenPipe => format!("对方已经关闭了连接({err})"),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => {
            format!("超时了:对方一直没有读,发送缓冲区满了({err})")
        }
        _ => err.to_string(),
    }
}

/// 评分器扮演的 TCP 服务器(测客户端用):绑定在 127.0.0.1 的随机端口上。
pub struct TcpFakeServer {
    listener: TcpListener,
}

/// 用完了:端口再占一会儿,迟到的连接不会连到别的检查那里(见 [`crate::park`])。
impl Drop for TcpFakeServer {
    fn drop(&mut self) {
        if let Ok(copy) = self.listener.try_clone() {
            crate::park::park(copy);
        }
    }
}

impl TcpFakeServer {
    pub fn bind() -> TcpFakeServer {
        TcpFakeServer::bind_to(IpAddr::from([127, 0, 0, 1]))
    }

    /// 监听 `ip` 上的随机端口(比如 IPv6 的回环地址 ::1)。
    pub fn bind_to(ip: IpAddr) -> TcpFakeServer {
        let listener = TcpListener::bind(SocketAddr::new(ip, 0))
            .unwrap_or_else(|err| panic!("评分器无法监听 {ip} 上的 TCP 端口: {err}"));
        TcpFakeServer { listener }
    }

    /// 监听 IPv6 回环地址 ::1 上的随机端口,同时占住 IPv4 回环地址上的同一个端口(返回的第二个,
    /// 「孪生」的监听套接字,只用 [`TcpFakeServer::try_accept`] 看一眼)。
    ///
    /// 不用 --host 的客户端会连 127.0.0.1 的同一个端口。没人占着那个端口的话,它可能连进同时运行的
    /// 另一项检查的程序里;占着它,连接就落在评分器手里,还能说清楚错在哪里。
    pub fn bind_ipv6_with_ipv4_twin() -> (TcpFakeServer, TcpFakeServer) {
        const TRIES: usize = 100;
        for _ in 0..TRIES {
            let v6 = TcpFakeServer::bind_to(crate::inputs::IPV6_LOOPBACK);
            let twin = TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, v6.addr().port()));
            if let Ok(listener) = twin {
                listener
                    .set_nonblocking(true)
                    .expect("监听套接字可以设成非阻塞");
                return (v6, TcpFakeServer { listener });
            }
        }
        panic!("评分器试了 {TRIES} 次,也没能同时占住 ::1 和 127.0.0.1 上的同一个 TCP 端口");
    }

    /// 同 [`TcpFakeServer::accept`],同时看着孪生的监听套接字 `twin`
    /// (见 [`TcpFakeServer::bind_ipv6_with_ipv4_twin`]):有人连到那里,马上返回他从哪里连来。
    pub fn accept_or_stray(
        &self,
        twin: Option<&TcpFakeServer>,
        deadline: Instant,
        mut alive: impl FnMut() -> bool,
    ) -> Result<Option<TcpClient>, SocketAddr> {
        let mut strayed = None;
        let accepted = self.accept(deadline, || {
            if strayed.is_none() {
                strayed = twin.and_then(TcpFakeServer::try_accept);
            }
            strayed.is_none() && alive()
        });
        match (accepted, strayed) {
            (None, Some(from)) => Err(from),
            (accepted, _) => Ok(accepted),
        }
    }

    /// 客户端连到了孪生的 `twin` 上(从 `from` 连来):在 `failure` 上写明「实际」和提示。
    pub fn strayed(&self, twin: &TcpFakeServer, from: SocketAddr, failure: Failure) -> Failure {
        failure
            .headline(IGNORES_HOST)
            .actual(format!(
                "{} 没有人连;评分器占着的 {} 却有人连上来了(从 {from} 连来)",
                self.addr(),
                twin.addr()
            ))
            .hint(
                "服务器的地址要由 --host 和 --port 组成,不要写死 127.0.0.1:\
                 --host 是 ::1 时,要连 [::1]:端口。用 (host.as_str(), port) 解析出地址再连接。",
            )
    }

    /// 已经连上来、排着队的一个连接(不等):它从哪里连来。只用于孪生的监听套接字。
    pub fn try_accept(&self) -> Option<SocketAddr> {
        self.listener.accept().ok().map(|(_, from)| from)
    }

    pub fn addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("已绑定的套接字一定有地址")
    }

    /// 等一个连接,最多等到截止时间,或者直到 `alive()` 为假(客户端进程已经退出)。
    ///
    /// 标准库的 accept 没有超时,所以在另一个线程里 accept;放弃时自己连一下,
    /// 把那个线程叫醒,再回收它,不留下任何线程(见 [`TcpFakeServer::give_up`])。
    pub fn accept(&self, deadline: Instant, mut alive: impl FnMut() -> bool) -> Option<TcpClient> {
        let listener = self.listener.try_clone().expect("监听套接字可以复制");
        let (tx, rx) = mpsc::channel();
        let waiter = thread::spawn(move || {
            // 接收方已经放弃时 send 会失败,那个连接随之被丢弃,正合适。
            let _ = tx.send(listener.accept());
        });
        let _status = crate::status::waiting_for_peer(
            "连上来",
            deadline.saturating_duration_since(Instant::now()),
        );
        let wrap = |accepted: io::Result<(TcpStream, SocketAddr)>| {
            accepted.ok().map(|(stream, _)| TcpClient { stream })
        };
        loop {
            match rx.recv_timeout(SLICE) {
                Ok(accepted) => {
                    let _ = waiter.join();
                    return wrap(accepted);
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    if Instant::now() < deadline && alive() {
                        continue;
                    }
                    return self.give_up(rx, waiter);
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let _ = waiter.join();
                    return None;
                }
            }
        }
    }

    /// 不再等了(期限到了,或者客户端已经退出):但客户端退出之前连上来的连接,
    /// 可能已经在接受队列里排着,只是 accept 线程还没轮到 CPU 去取。
    ///
    /// 所以不靠「再等一小会儿」去碰运气:评分器自己连一下,排在队尾。接受队列先来先出,
    /// accept 线程取到的要是评分器自己的这个连接,说明前面没有客户端的连接;
    /// 取到的是别的连接,那就是客户端的,照样交给检查。
    fn give_up(
        &self,
        rx: mpsc::Receiver<io::Result<(TcpStream, SocketAddr)>>,
        waiter: thread::JoinHandle<()>,
    ) -> Option<TcpClient> {
        /// 队列里一定有连接了,accept 线程只是要轮到 CPU:机器再忙也用不了这么久。
        const TAKE: Duration = Duration::from_secs(2);
        let wake = TcpStream::connect_timeout(&self.addr(), SLICE).ok();
        let ours = wake.as_ref().and_then(|w| w.local_addr().ok());
        match rx.recv_timeout(scaled(TAKE)) {
            Ok(Ok((stream, from))) => {
                let _ = waiter.join();
                (Some(from) != ours).then_some(TcpClient { stream })
            }
            Ok(Err(_)) => {
                let _ = waiter.join();
                None
            }
            // 叫不醒的话就不等它了:宁可留下一个线程,也不能让评分挂住。
            Err(_) => None,
        }
    }
}

/// 一个被评分器占着、但没有在监听的端口:连接它一定被拒绝(ConnectionRefused)。
///
/// 先绑定后释放的「空闲端口」可能被别的程序抢走;一直占着就不会。
pub struct RefusingPort {
    socket: Socket,
}

/// 用完了:端口再占一会儿,还没被结束的客户端再连也只会被拒绝(见 [`crate::park`])。
impl Drop for RefusingPort {
    fn drop(&mut self) {
        if let Ok(copy) = self.socket.try_clone() {
            crate::park::park(copy);
        }
    }
}

impl RefusingPort {
    pub fn bind() -> RefusingPort {
        let socket =
            Socket::new(Domain::IPV4, Type::STREAM, None).expect("评分器无法创建 TCP 套接字");
        let addr: SocketAddr = "127.0.0.1:0".parse().expect("合法的地址");
        socket
            .bind(&addr.into())
            .expect("评分器无法绑定 127.0.0.1:0");
        RefusingPort { socket }
    }

    pub fn addr(&self) -> SocketAddr {
        self.socket
            .local_addr()
            .ok()
            .and_then(|a| a.as_socket())
            .expect("已绑定的套接字一定有地址")
    }
}

/// 客户端没有用 `--host`、连到了评分器占着的孪生端口上时的标题(第 5、6 课)。
pub const IGNORES_HOST: &str = "客户端没有用 --host:连到了另一个地址";

/// 一个连上去不会有任何应答的地址,就像连一台被防火墙挡住、或者已经关机的机器:
/// 连接请求发出去,既等不到接通,也等不到拒绝,连接的一方只能等到自己的超时。
///
/// 做法:一个监听着的套接字,接受队列只有一个位置(backlog 0),被评分器自己的一个连接占着,
/// 而且永远不 accept。Linux 上,接受队列满了的监听套接字会悄悄丢掉新来的连接请求(SYN),
/// 每次都一样,不需要等待,也不会有别的程序来抢。别的系统不一定这样(有的直接拒绝),
/// 所以 [`Unanswered::bind`] 先自己试一次,做不出来就返回 None,由检查说明为什么跳过。
pub struct Unanswered {
    listener: Socket,
    _filler: TcpStream,
}

/// 用完了:端口再占一会儿(见 [`crate::park`])。
impl Drop for Unanswered {
    fn drop(&mut self) {
        if let Ok(copy) = self.listener.try_clone() {
            crate::park::park(copy);
        }
    }
}

impl Unanswered {
    pub fn bind() -> Option<Unanswered> {
        /// 试探一次最多等这么久:本机的接通或拒绝只要几微秒,丢掉的请求要 1 秒后才会重发。
        const PROBE: Duration = Duration::from_millis(300);
        let listener = Socket::new(Domain::IPV4, Type::STREAM, None).ok()?;
        let any: SocketAddr = "127.0.0.1:0".parse().expect("合法的地址");
        listener.bind(&any.into()).ok()?;
        listener.listen(0).ok()?;
        let addr = listener.local_addr().ok()?.as_socket()?;
        // 第一个连接完成握手,占住接受队列里唯一的位置。
        let filler = TcpStream::connect_timeout(&addr, Duration::from_secs(1)).ok()?;
        // 确认队列真的满了:再连一次,应该既不接通,也不被拒绝。
        match TcpStream::connect_timeout(&addr, PROBE) {
            Err(err) if is_timeout(&err) => Some(Unanswered {
                listener,
                _filler: filler,
            }),
            _ => None,
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .ok()
            .and_then(|a| a.as_socket())
            .expect("已绑定的套接字一定有地址")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Linux 上,接受队列满了的监听套接字不应答:连接的一方只能等到自己的超时。
    #[cfg(target_os = "linux")]
    #[test]
    fn on_linux_a_full_accept_queue_leaves_a_connect_unanswered() {
        let unanswered = Unanswered::bind().expect("Linux 上应该做得出不应答的地址");
        {
            let started = Instant::now();
            let err = TcpStream::connect_timeout(&unanswered.addr(), Duration::from_millis(400))
                .expect_err("不应该连上");
            assert!(is_timeout(&err), "应该是超时,却是 {err}");
            assert!(started.elapsed() >= Duration::from_millis(400));
        }
    }
}
