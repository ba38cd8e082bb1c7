//! 评分器这一端的 UDP 套接字:扮演客户端(测服务器时)或服务器(测客户端时)。

use std::io;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use crate::diagnose::{Cause, Role, cause, diagnose};
use crate::failure::Failure;
use crate::grader::{NOTHING_MORE, REPLY, Server, deadline, describe_exit, scaled};
use crate::program::{Program, StderrWatch};

/// 评分器能收下的最大数据报(比 UDP 允许的最大值还大一点,保证不会截断任何东西)。
const RECV_BUFFER: usize = 65_536;

/// 比这更大的数据报,算「大的」:没有回音时,先怀疑接收缓冲区(见 `no_reply`)。
/// 输入目录里的文字都远小于它;评分器的大数据报是 8000 字节和 65507 字节。
const BIG_DATAGRAM: usize = 1024;

/// 对方退出以后,再等它退出前发出的数据报最多这么久。
///
/// 本机的数据报在发送的那一刻并不一定已经进了接收队列:内核把它交给一个软中断去投递,
/// 机器很忙时,这一步可能排在发送方退出之后好一阵。空闲的机器上它早就到了,一点也不用等。
pub(crate) const AFTER_EXIT: Duration = Duration::from_millis(500);

/// 一个绑定在 127.0.0.1 随机端口上的 UDP 套接字。
pub struct UdpPeer {
    socket: UdpSocket,
}

/// 收到的一个数据报。
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Datagram {
    pub data: Vec<u8>,
    pub from: SocketAddr,
}

/// 用完了:端口再占一会儿,迟到的数据报不会落到别的检查手里(见 [`crate::park`])。
impl Drop for UdpPeer {
    fn drop(&mut self) {
        if let Ok(copy) = self.socket.try_clone() {
            crate::park::park(copy);
        }
    }
}

impl UdpPeer {
    /// 绑定 127.0.0.1:0。失败说明这台机器的网络环境有问题,不是学员的错,所以直接 panic。
    pub fn bind() -> UdpPeer {
        UdpPeer::bind_to(IpAddr::from([127, 0, 0, 1]))
    }

    /// 绑定 `ip` 上的随机端口(比如 IPv6 的回环地址 ::1)。
    pub fn bind_to(ip: IpAddr) -> UdpPeer {
        let socket = UdpSocket::bind(SocketAddr::new(ip, 0))
            .unwrap_or_else(|err| panic!("评分器无法绑定 {ip} 上的 UDP 套接字: {err}"));
        UdpPeer { socket }
    }

    /// 绑定 IPv6 回环地址 ::1 上的随机端口,同时占住 IPv4 回环地址上的同一个端口(返回的第二个,
    /// 「孪生」的套接字)。
    ///
    /// 不用 --host 的客户端会把数据报发到 127.0.0.1 的同一个端口。没人占着那个端口的话,它可能
    /// 落进同时运行的另一项检查的程序里;占着它,数据报就落在评分器手里,还能说清楚错在哪里。
    pub fn bind_ipv6_with_ipv4_twin() -> (UdpPeer, UdpPeer) {
        const TRIES: usize = 100;
        for _ in 0..TRIES {
            let v6 = UdpPeer::bind_to(crate::inputs::IPV6_LOOPBACK);
            let port = v6.addr().port();
            if let Ok(socket) = UdpSocket::bind((std::net::Ipv4Addr::LOCALHOST, port)) {
                return (v6, UdpPeer { socket });
            }
        }
        panic!("评分器试了 {TRIES} 次,也没能同时占住 ::1 和 127.0.0.1 上的同一个 UDP 端口");
    }

    pub fn addr(&self) -> SocketAddr {
        self.socket.local_addr().expect("已绑定的套接字一定有地址")
    }

    pub fn send_to(&self, data: &[u8], to: SocketAddr) {
        let sent = self
            .socket
            .send_to(data, to)
            .unwrap_or_else(|err| panic!("评分器无法向 {to} 发送 {} 字节: {err}", data.len()));
        assert_eq!(sent, data.len(), "UDP 一次发送整个数据报");
    }

    /// 发给一个被测程序,但只在它还在运行时发。
    ///
    /// 已经退出的程序收不到任何东西;而它的端口随时可能被系统分给别人(很可能是同时在运行的
    /// 另一项检查),这个数据报就会落到别人手里。不发,等回复的那一步马上就会看到它退出了。
    pub fn send_to_running(&self, data: &[u8], to: SocketAddr, program: &mut Program) {
        if program.exited().is_none() {
            self.send_to(data, to);
        }
    }

    /// 等一个数据报,最多等到截止时间;超时返回 None。
    pub fn recv(&self, deadline: Instant) -> Option<Datagram> {
        self.recv_while(deadline, || true)
    }

    /// 等一个数据报,但只在 `alive()` 为真时等:对方进程已经退出时就不必等满期限。
    ///
    /// 每隔一小段时间问一次 `alive()`。对方退出后再收一次(最多等 [`AFTER_EXIT`]),
    /// 就不会漏掉它退出前发出的数据报。
    pub fn recv_while(
        &self,
        deadline: Instant,
        mut alive: impl FnMut() -> bool,
    ) -> Option<Datagram> {
        const SLICE: Duration = Duration::from_millis(50);
        let _status = crate::status::waiting_for_peer(
            "发来数据报",
            deadline.saturating_duration_since(Instant::now()),
        );
        loop {
            let slice_end = deadline.min(Instant::now() + SLICE);
            if let Some(datagram) = self.recv_until(slice_end) {
                return Some(datagram);
            }
            if Instant::now() >= deadline {
                return None;
            }
            if !alive() {
                return self.recv_until(Instant::now() + scaled(AFTER_EXIT));
            }
        }
    }

    /// 已经到了的数据报(最多等 1 毫秒)。
    pub fn try_recv(&self) -> Option<Datagram> {
        self.recv_until(Instant::now() + Duration::from_millis(1))
    }

    /// 在截止时间之前收一个数据报。
    fn recv_until(&self, deadline: Instant) -> Option<Datagram> {
        let mut buf = vec![0u8; RECV_BUFFER];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            self.socket
                .set_read_timeout(Some(left))
                .expect("非零的超时总是合法的");
            match self.socket.recv_from(&mut buf) {
                Ok((n, from)) => {
                    return Some(Datagram {
                        data: buf[..n].to_vec(),
                        from,
                    });
                }
                Err(err) if is_timeout(&err) => return None,
                // 例如 Windows 上对方端口不可达时的 ConnectionReset:不是回复,继续等。
                Err(_) => continue,
            }
        }
    }
}

/// 读超时在 Unix 上是 WouldBlock,在 Windows 上是 TimedOut。
pub fn is_timeout(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// 检查一次「回声」:评分器从 `peer` 发出 `payload`,期望服务器把完全相同的字节
/// 作为一个数据报、从它绑定的地址发回给 `peer`。
pub fn expect_echo(
    server: &mut Server,
    peer: &UdpPeer,
    payload: &[u8],
    reproduce: &str,
) -> Result<(), Failure> {
    let watch = server.program.watch_stderr();
    peer.send_to_running(payload, server.addr, &mut server.program);
    expect_replies(server, peer, &[payload], watch, reproduce, || true)
}

/// 其他数据报的回声已经到了,还差的那个最多再等这么久:一个一个处理数据报的服务器,
/// 回复了后面的,前面的早就处理过了;同时处理好几个的服务器,也只会晚几毫秒。
const OTHERS_ANSWERED: Duration = Duration::from_secs(1);

/// 等 `peer` 刚发出的几个数据报(`payloads`)各自的回声,先后顺序不限:UDP 不保证顺序,
/// 同时处理好几个数据报的服务器也可能先回复后面的。
///
/// `watch` 要在发出这些数据报之前就开始留意服务器的 stderr(`server.program.watch_stderr()`):
/// 服务器可能在评分器开始等之前,就已经为其中一个数据报报了错。
///
/// 不必等满期限的情况:服务器在 stderr 上报了错(再给它一点宽限,然后根据它说的话诊断);
/// 别的数据报都有了回声,只差一个(再等 [`OTHERS_ANSWERED`]);`hope()` 返回假
/// (调用方从别处已经看出回复不会来了,比如它被发给了另一个客户端)。
pub fn expect_replies(
    server: &mut Server,
    peer: &UdpPeer,
    payloads: &[&[u8]],
    mut watch: StderrWatch,
    reproduce: &str,
    mut hope: impl FnMut() -> bool,
) -> Result<(), Failure> {
    let mut pending: Vec<&[u8]> = payloads.to_vec();
    let mut answered: Vec<Vec<u8>> = Vec::new();
    let until = deadline(REPLY);
    let server_addr = server.addr;
    while let Some(&payload) = pending.first() {
        let failure = |headline: String| {
            let mut failure = Failure::new(headline);
            for sent in payloads {
                failure = failure.sent(sent, format!("{server_addr}(从 {} 发出)", peer.addr()));
            }
            let expected = match payloads {
                [one] => format!(
                    "同样的 {} 字节作为一个数据报,从 {server_addr} 发回到 {}(发送方)",
                    one.len(),
                    peer.addr()
                ),
                _ => format!(
                    "每个数据报都有一个回声:同样的字节作为一个数据报,从 {server_addr} 发回到 {}\
                     (发送方),先后不限",
                    peer.addr()
                ),
            };
            failure.expected(expected).reproduce(reproduce)
        };
        // 别的数据报已经有了回声,还差的这个不必再等满期限。
        let wait_until = match answered.is_empty() {
            true => until,
            false => until.min(Instant::now() + scaled(OTHERS_ANSWERED)),
        };
        let program = &mut server.program;
        let reply = peer.recv_while(wait_until, || {
            program.exited().is_none() && watch.patient() && hope()
        });
        let Some(reply) = reply else {
            return Err(no_reply(
                server,
                payload,
                &answered,
                &watch.new_text(),
                failure,
            ));
        };
        let got = format!(
            "从 {} 收到 {}",
            reply.from,
            crate::text::show_bytes(&reply.data)
        );
        if reply.from != server_addr {
            return Err(failure("回复不是从服务器绑定的地址发出的".to_owned())
                .actual(got)
                .hint(
                    "用收到数据的那个套接字回复。新建一个套接字去发,对方看到的就是另一个端口。",
                ));
        }
        if let Some(i) = pending.iter().position(|p| *p == reply.data.as_slice()) {
            pending.remove(i);
            answered.push(reply.data);
            continue;
        }
        return Err(wrong_reply(
            payload,
            &reply.data,
            failure("回复的内容和发出去的不一样".to_owned()).actual(got),
        ));
    }
    Ok(())
}

/// 等不到 `payload` 的回声:说出最可能的原因。
fn no_reply(
    server: &mut Server,
    payload: &[u8],
    answered: &[Vec<u8>],
    complaint: &str,
    failure: impl Fn(String) -> Failure,
) -> Failure {
    let too_big = format!("服务器的接收缓冲区放不下 {} 字节的数据报", payload.len());
    let others = if answered.is_empty() {
        String::new()
    } else {
        format!(
            ";别的数据报({})都收到了回声",
            answered
                .iter()
                .map(|a| crate::text::show_bytes(a))
                .collect::<Vec<_>>()
                .join("、")
        )
    };
    let missing = format!("{} 的回声", crate::text::show_bytes(payload));
    match server.program.exited() {
        Some(status) if status.success() => {
            failure("服务器以退出码 0 退出了,但回复没有到达发送方".to_owned())
                .actual(format!("没有收到 {missing};服务器已经退出{others}"))
                .hint(
                    "回复多半发到了别的地址。send_to 的目标必须是 recv_from 返回的那个地址\
                     (发送方的 IP 和端口),不要写死地址或端口:每个客户端的端口都不一样。",
                )
        }
        Some(status) => {
            let stderr = server.program.output().stderr();
            let headline = if cause(&stderr) == Some(Cause::MessageTooLong) {
                too_big
            } else {
                "服务器还没回复就退出了".to_owned()
            };
            failure(headline)
                .actual(format!(
                    "没有收到 {missing};{}{others}",
                    describe_exit(Some(status))
                ))
                .hint(diagnose(Role::Server, &stderr))
        }
        None if !complaint.trim().is_empty() => {
            let headline = if cause(complaint) == Some(Cause::MessageTooLong) {
                too_big
            } else {
                "服务器在 stderr 上报了错,没有回复".to_owned()
            };
            failure(headline)
                .actual(format!(
                    "没有收到 {missing}{others};服务器还在运行,它在 stderr 上说:\n{}",
                    complaint.trim_end()
                ))
                .hint(diagnose(Role::Server, complaint))
        }
        None if payload.is_empty() => failure("服务器没有回复空数据报".to_owned())
            .actual(format!("没有收到 {missing}{others};服务器还在运行"))
            .hint(
                "长度为 0 的数据报也是一个数据报。UDP 没有「连接关闭」:recv_from 返回 0 \
                 只说明对方发来了一个空数据报,不是 EOF。原样回一个空数据报,然后接着循环。",
            ),
        // 小的都好好的,偏偏大的没有回音:最常见的原因是接收缓冲区太小。
        None if payload.len() > BIG_DATAGRAM => failure(format!(
            "服务器没有回复 {} 字节的数据报",
            payload.len()
        ))
        .actual(format!(
            "没有收到 {missing}{others};服务器还在运行,stderr 上什么也没说"
        ))
        .hint(
            "大的数据报没有回音,多半是接收缓冲区太小:Windows 上,比缓冲区大的数据报会让 recv_from \
             报错(10040,WSAEMSGSIZE),把这个错误悄悄跳过(continue)的服务器就什么也不回;\
             也可能是程序有意跳过了大的数据报。按 UDP 最大数据报(65507 字节)准备缓冲区;\
             recv_from 出错时记一行日志,不要悄悄跳过。",
        ),
        None if !answered.is_empty() => {
            failure("服务器回复了别的数据报,却没有回复这一个".to_owned())
                .actual(format!("没有收到 {missing}{others};服务器还在运行"))
                .hint(
                    "每个数据报都要回复,一个也不能漏:收到什么、多长,都原样发回去。\
                 看看处理数据报的代码里,有没有哪种内容被跳过了。",
                )
        }
        None => failure(format!("服务器在 {} 秒内没有回复", scaled(REPLY).as_secs()))
            .actual(format!(
                "{} 秒内没有收到任何数据报;服务器还在运行",
                scaled(REPLY).as_secs()
            ))
            .hint(
                "检查收到数据以后有没有调用 send_to,目标是不是 recv_from 返回的发送方地址。\
                 如果 stdout 里也没有「收到」之类的记录,程序可能根本没走到 recv_from。",
            ),
    }
}

/// 收到的回复和发出去的 `payload` 不一样:截断了、多了,还是变了。
fn wrong_reply(payload: &[u8], reply: &[u8], failure: Failure) -> Failure {
    if payload.starts_with(reply) {
        failure
            .headline(format!(
                "回复被截断了:发出 {} 字节,只收回 {} 字节",
                payload.len(),
                reply.len()
            ))
            .hint(
                "接收缓冲区太小。recv_from 收到比缓冲区大的数据报时,放不下的部分就丢了\
                 (Linux 和 macOS 上连错误都不报,Windows 上会报错)。按 UDP 最大数据报(65507 字节)准备缓冲区。",
            )
            .read("数据报的边界")
    } else if reply.starts_with(payload) {
        failure
            .headline(format!(
                "回复比发出去的多了 {} 字节",
                reply.len() - payload.len()
            ))
            .hint(
                "回复比收到的多。发回去的应该是 &buf[..n](n 是 recv_from 返回的长度),\
                 而不是整个缓冲区,也不要加换行或前缀。",
            )
    } else {
        failure.hint(
            "把收到的字节原样发回:不要加前缀或换行,也不要先转成 String 再转回字节\
             (from_utf8_lossy 会把坏的 UTF-8 换成 �,字节就变了)。",
        )
    }
}

/// 「一个不多」:该到的回复都到了以后,再等一小会儿([`NOTHING_MORE`]),确认没有多出来的数据报
/// (比如同一个回复发了两遍,或者把回复拆成了好几个数据报)。
pub fn expect_nothing_more(
    server: &Server,
    peer: &UdpPeer,
    after: &str,
    reproduce: &str,
) -> Result<(), Failure> {
    let Some(extra) = peer.recv(deadline(NOTHING_MORE)) else {
        return Ok(());
    };
    Err(Failure::new("服务器多发了一个数据报")
        .sent_note(after)
        .expected(format!(
            "每个数据报恰好一个回复:{} 收到 {} 该发的回复以后,再也没有别的数据报",
            peer.addr(),
            server.addr
        ))
        .actual(format!(
            "又从 {} 收到 {}",
            extra.from,
            crate::text::show_bytes(&extra.data)
        ))
        .hint(
            "每收到一个数据报,只调用一次 send_to,把 &buf[..n] 整个作为一个数据报发回去:\
             不要发两遍,也不要把回复拆成几段发。",
        )
        .reproduce(reproduce))
}
