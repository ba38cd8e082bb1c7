//! 参考答案自己的「故障重现」:每一个曾经的毛病(issue 12)都在这里重现一遍。
//! 修好以前,这些测试会失败;修好以后,它们保证毛病不再回来。
//!
//! 这些不是评分:评分在 tests/grade.rs(练习和参考答案共用)。这里测的是参考答案的
//! 健壮性,包括评分器不要求学员做到的事(比如 stdout 被关掉)。

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
    let mut first = String::new();
    BufReader::new(child.stdout.take().expect("piped"))
        .read_line(&mut first)
        .expect("读到第一行");
    // BufReader 和 stdout 的读端在这里被丢掉:管道的读端关了。
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

/// issue 12 缺陷 1:一个从不读消息的人,在写超时之后被请走,其他人收到「跟不上」的通知。
#[test]
fn a_client_who_never_reads_is_removed_after_the_write_timeout() {
    let server = start(&["--write-timeout", "1"]);
    let mut bob = Peer::join(server.addr, "bob");
    let _slow = Peer::join(server.addr, "slow");
    let alice = Peer::join(server.addr, "alice");
    let started = Instant::now();
    let talker = thread::spawn(move || {
        let line = format!("{}\n", "话".repeat(300));
        // slow 被请走以前,alice 可能要等;之后就畅通了。
        for _ in 0..20_000 {
            if (&alice.stream).write_all(line.as_bytes()).is_err() {
                break;
            }
        }
    });
    let notice = bob.wait_for(|l| l.starts_with("* slow") && !l.contains("进入"));
    assert!(notice.contains("跟不上"), "{notice}");
    assert!(started.elapsed() < Duration::from_secs(8));
    talker.join().unwrap();
}

/// issue 12 缺陷 2:一直不报昵称的连接在时限之后被断开,座位空出来;满员时新来的人收到
/// 「! 聊天室已满」,已经在聊天的人照常聊天。
#[test]
fn silent_connections_cannot_lock_newcomers_out() {
    let server = start(&["--max-clients", "3", "--nick-timeout", "1"]);
    let mut alice = Peer::join(server.addr, "alice");
    let bob = Peer::join(server.addr, "bob");
    let mut silent = Peer::connect(server.addr);
    silent.wait_for(|l| l.starts_with("* 欢迎"));

    // 第 4 个连接:满了。
    let mut late = Peer::connect(server.addr);
    assert!(late.line().unwrap().starts_with("! 聊天室已满"));
    assert_eq!(late.line(), None, "说完满员就该关闭连接");

    // 满员的时候,在里面的人照常聊天。
    bob.say("还好吗");
    alice.wait_for(|l| l == "[bob] 还好吗");

    // 一直不报昵称的人,一秒后被断开;他的座位空出来,新来的人进得来。
    let why = silent.wait_for(|l| l.starts_with("! "));
    assert!(why.contains("昵称"), "{why}");
    assert_eq!(silent.line(), None);
    let deadline = Instant::now() + PATIENCE;
    loop {
        let mut newcomer = Peer::connect(server.addr);
        if newcomer.line().is_some_and(|l| l.starts_with("* 欢迎")) {
            break;
        }
        // 断开的线程还没来得及让出座位:再试(有期限)。
        assert!(Instant::now() < deadline, "座位一直没有空出来");
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
    let (first, _) = listener.accept().unwrap();
    (&first)
        .write_all("* 欢迎来到聊天室!请输入你的昵称\n".as_bytes())
        .unwrap();
    first.set_read_timeout(Some(PATIENCE)).unwrap();
    let mut nick = String::new();
    BufReader::new(&first).read_line(&mut nick).unwrap();
    assert_eq!(nick, "小红\n");
    drop(first);
    // 之后的 2 秒里:每个连接一连上就关掉。数一数客户端敲了几次门。
    let (knocked, knocks_rx) = std::sync::mpsc::channel();
    thread::spawn(move || {
        for stream in listener.incoming() {
            drop(stream);
            if knocked.send(()).is_err() {
                return;
            }
        }
    });
    let until = Instant::now() + Duration::from_secs(2);
    let mut knocks = 0;
    while let Some(left) = until.checked_duration_since(Instant::now()) {
        if knocks_rx.recv_timeout(left).is_ok() {
            knocks += 1;
        }
    }
    let _ = client.kill();
    let _ = client.wait();
    // 等 250、500、1000 毫秒:2 秒里最多 3 次。每次从头算(都等 250 毫秒)的话是七八次。
    assert!(knocks <= 3, "2 秒里重连了 {knocks} 次");
}

/// issue 12 缺陷 2:服务器满了,客户端说清楚,然后退出(不是「已连上」以后一声不吭地挂着)。
#[test]
fn the_client_says_when_the_room_is_full() {
    let server = start(&["--max-clients", "1"]);
    let _alice = Peer::join(server.addr, "alice");
    let out = Command::new(PROGRAM)
        .args([
            "client",
            "--port",
            &server.addr.port().to_string(),
            "--nick",
            "bob",
        ])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("聊天室已满"), "{stderr}");
}
