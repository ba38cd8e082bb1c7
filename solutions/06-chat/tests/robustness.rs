//! 参考答案自己的「故障重现」:每一个曾经的毛病(issue 12)都在这里重现一遍。
//! 修好以前,这些测试会失败;修好以后,它们保证毛病不再回来。
//!
//! 这些不是评分:评分在 tests/grade.rs(练习和参考答案共用)。这里测的是参考答案的
//! 健壮性,包括评分器不要求学员做到的事(比如 stdout 被关掉)。评分器已经检查的毛病
//! (不读消息的人在写超时之后被请走:第 6 项;不报昵称的连接占不住座位、满员时的提示:第 9 项;
//! 客户端说清楚「聊天室已满」:第 14 项)不在这里再测一遍:tests/grade.rs 给参考答案评分时,
//! 它们每次都会被重现。
//!
//! 每一次等待都有期限(PATIENCE),测试永远不会挂住。

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

const PROGRAM: &str = env!("CARGO_BIN_EXE_solution-06");
/// 每一次等待的期限:远远长于测试里用到的任何一个超时。
const PATIENCE: Duration = Duration::from_secs(10);

/// 一个运行中的服务器:被 drop 时一定结束。
struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// 用 `server --port 0 …` 启动,读出地址,然后关掉读 stdout 的那一头:
/// 之后服务器每写一行日志都会失败(就像 `| head -n 1`)。
fn start(extra: &[&str]) -> Server {
    let mut child = Command::new(PROGRAM)
        .args(["server", "--port", "0"])
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("能启动 solution-06");
    // 有期限地读第一行,然后关掉读的那一头(就像 `| head -n 1`)。
    let stdout = child.stdout.take().expect("piped");
    let Some(first) = harness::program::first_line_then_close(stdout, PATIENCE) else {
        let _ = child.kill();
        let _ = child.wait();
        panic!("solution-06 在 {PATIENCE:?} 内没有打印第一行");
    };
    let addr = first
        .split_whitespace()
        .last()
        .and_then(|a| a.parse().ok())
        .expect("第一行的最后是地址");
    Server { child, addr }
}

/// 一个聊天的人:连上、报昵称、等到欢迎语。
struct Peer {
    stream: TcpStream,
    reader: BufReader<TcpStream>,
}

impl Peer {
    fn connect(addr: SocketAddr) -> Peer {
        let stream = TcpStream::connect_timeout(&addr, PATIENCE).expect("连得上");
        stream.set_read_timeout(Some(PATIENCE)).unwrap();
        let reader = BufReader::new(stream.try_clone().unwrap());
        Peer { stream, reader }
    }

    fn join(addr: SocketAddr, nick: &str) -> Peer {
        let mut peer = Peer::connect(addr);
        peer.say(nick);
        peer.wait_for(|l| l.starts_with("* 你好"));
        // /list 的回复到了,他一定已经在名单里了。
        peer.say("/list");
        peer.wait_for(|l| l.starts_with("* 在线"));
        peer
    }

    fn say(&self, line: &str) {
        (&self.stream)
            .write_all(format!("{line}\n").as_bytes())
            .expect("发得出去");
    }

    /// 读一行;连接关闭时返回 None。
    fn line(&mut self) -> Option<String> {
        let mut line = String::new();
        match self.reader.read_line(&mut line) {
            Ok(0) | Err(_) => None,
            Ok(_) => Some(line.trim_end().to_owned()),
        }
    }

    fn wait_for(&mut self, wanted: impl Fn(&str) -> bool) -> String {
        let mut seen = Vec::new();
        while let Some(line) = self.line() {
            if wanted(&line) {
                return line;
            }
            seen.push(line);
        }
        panic!("没等到想要的那一行;收到了 {seen:?}");
    }
}

/// issue 12 缺陷 1:一阵刷屏(3000 行)不能让读消息的人被请走,他们一行不少地收到。
#[test]
fn a_burst_never_removes_a_reader_who_reads() {
    let server = start(&[]);
    let readers: Vec<_> = ["bob", "carol"]
        .map(|nick| Peer::join(server.addr, nick))
        .into_iter()
        .map(|mut peer| {
            thread::spawn(move || {
                let mut got = 0;
                while got < 3000 {
                    match peer.line() {
                        Some(line) if line.starts_with("[alice] ") => got += 1,
                        Some(line) => assert!(!line.contains("跟不上"), "{line}"),
                        None => break,
                    }
                }
                got
            })
        })
        .collect();
    let alice = Peer::join(server.addr, "alice");
    let paste: String = (0..3000).map(|i| format!("第{i}行\n")).collect();
    (&alice.stream).write_all(paste.as_bytes()).unwrap();
    for reader in readers {
        assert_eq!(reader.join().unwrap(), 3000, "读消息的人少收了");
    }
}

/// issue 12 缺陷 3:stdout 被关掉了(比如 `| head -n 1`),服务器照常服务:
/// 进门有欢迎,说话有人收到,走了名字也能再用。
#[test]
fn a_closed_stdout_never_hurts_the_clients() {
    let server = start(&[]);
    let mut alice = Peer::join(server.addr, "alice");
    let bob = Peer::join(server.addr, "bob");
    bob.say("你好,世界");
    alice.wait_for(|l| l == "[bob] 你好,世界");
    bob.say("/quit");
    alice.wait_for(|l| l.starts_with("* bob"));
    drop(bob);
    let _again = Peer::join(server.addr, "bob");
}

/// issue 12 缺陷 4:服务器一连上就关(比如它坏了),客户端的重连间隔不能每次都从头算。
#[test]
fn the_client_backs_off_from_a_server_that_closes_at_once() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let mut client = Command::new(PROGRAM)
        .args(["client", "--port", &port, "--nick", "小红"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // 第一次:正常进门,然后服务器「坏了」。
    let waiting = listener.try_clone().unwrap();
    let (accepted, accepted_rx) = std::sync::mpsc::channel();
    thread::spawn(move || {
        let _ = accepted.send(waiting.accept());
    });
    let Ok(Ok((first, _))) = accepted_rx.recv_timeout(PATIENCE) else {
        let _ = client.kill();
        let _ = client.wait();
        panic!("客户端在 {PATIENCE:?} 内没有连上来");
    };
    (&first)
        .write_all("* 欢迎来到聊天室!请输入你的昵称\n".as_bytes())
        .unwrap();
    first.set_read_timeout(Some(PATIENCE)).unwrap();
    let mut nick = String::new();
    BufReader::new(&first).read_line(&mut nick).unwrap();
    assert_eq!(nick, "小红\n");
    drop(first);
    // 之后的 1 秒里:每个连接一连上就关掉。数一数客户端敲了几次门。
    let (knocked, knocks_rx) = std::sync::mpsc::channel();
    thread::spawn(move || {
        for stream in listener.incoming() {
            drop(stream);
            if knocked.send(()).is_err() {
                return;
            }
        }
    });
    let until = Instant::now() + Duration::from_secs(1);
    let mut knocks = 0;
    while let Some(left) = until.checked_duration_since(Instant::now()) {
        if knocks_rx.recv_timeout(left).is_ok() {
            knocks += 1;
        }
    }
    let _ = client.kill();
    let _ = client.wait();
    // 等 250、500 毫秒:1 秒里最多 2 次(下一次要到 1.75 秒)。每次从头算(都等 250 毫秒)的话是
    // 三四次。机器再忙,正确的客户端也只会敲得更少,不会更多。
    assert!(knocks <= 2, "1 秒里重连了 {knocks} 次");
}
