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

/// 大房间里,一句话分给两个线程同时写(`Room::deliver`,收信人至少 256 个时):
/// 每个人照样一行不少、按说的顺序收到。
#[test]
fn in_a_big_room_everyone_gets_every_line_in_order() {
    const MEMBERS: usize = 300;
    const LINES: usize = 50;
    let server = start(&[]);
    let alice = Peer::join(server.addr, "alice");
    let listeners: Vec<Peer> = (1..MEMBERS)
        .map(|i| Peer::join(server.addr, &format!("p{i}")))
        .collect();
    let readers: Vec<_> = listeners
        .into_iter()
        .map(|mut peer| {
            thread::spawn(move || {
                let mut heard = Vec::new();
                while heard.len() < LINES {
                    match peer.line() {
                        Some(line) => {
                            if let Some(n) = line.strip_prefix("[alice] 第") {
                                heard.push(n.trim_end_matches('句').parse::<usize>().unwrap());
                            }
                        }
                        None => break,
                    }
                }
                heard
            })
        })
        .collect();
    for i in 0..LINES {
        alice.say(&format!("第{i}句"));
    }
    let wanted: Vec<usize> = (0..LINES).collect();
    for reader in readers {
        assert_eq!(reader.join().unwrap(), wanted, "少收了,或者顺序乱了");
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

/// issue 12 缺陷 2:一言不发的连接把文件描述符用光了。这时 accept 一次又一次地失败:
/// 服务器歇一会儿再试(不空转),警告每 5 秒最多一行(不刷屏);里面的人照常聊天;
/// 一言不发的连接报昵称超时被断开以后,新来的人进得了门。
///
/// 用 `ulimit -n 32` 启动服务器:它最多能开 28 个连接(0、1、2 和监听的套接字各占一个)。
#[cfg(unix)]
#[test]
fn silent_connections_that_use_up_the_fds_lock_nobody_out() {
    use harness::program::Program;
    use std::path::Path;

    /// 一言不发的连接:比服务器能开的连接多,多出的那些在监听队列里排队。
    const SILENT: usize = 40;
    let started = Instant::now();
    let server = Program::spawn(
        Path::new("sh"),
        &[
            "-c",
            r#"ulimit -n 32 && exec "$0" "$@""#,
            PROGRAM,
            "server",
            "--port",
            "0",
            "--nick-timeout",
            "1",
        ],
    )
    .expect("能用 sh 启动 solution-06");
    let first = server
        .first_line(started + PATIENCE)
        .unwrap_or_else(|err| panic!("没等到服务器的第一行({err:?}):{}", server.output().stderr()));
    let addr: SocketAddr = first
        .split_whitespace()
        .last()
        .and_then(|a| a.parse().ok())
        .expect("第一行的最后是地址");

    let mut alice = Peer::join(addr, "alice");
    let mut bob = Peer::join(addr, "bob");
    let silent: Vec<TcpStream> = (0..SILENT)
        .map(|_| TcpStream::connect_timeout(&addr, PATIENCE).expect("在监听队列里也算连上"))
        .collect();
    let failing = "接受连接失败";
    server
        .wait_output_until(Instant::now() + PATIENCE, |out| out.contains(failing))
        .unwrap_or_else(|err| {
            panic!(
                "{SILENT} 个连接也没有用光 32 个文件描述符?没等到「{failing}」的警告({err:?})。\
                 stderr:\n{}",
                server.output().stderr()
            )
        });
    let cpu_before = cpu_time(server.id());
    let exhausted = Instant::now();

    // 文件描述符用光的时候,里面的人照常聊天。
    alice.say("你好,世界");
    bob.wait_for(|l| l == "[alice] 你好,世界");
    bob.say("还在");
    alice.wait_for(|l| l == "[bob] 还在");

    // 新来的人:排在一言不发的连接后面。它们报昵称超时(1 秒)被断开,空出的位子让他进门。
    let carol = Peer::join(addr, "carol");
    alice.wait_for(|l| l.starts_with("* carol"));
    let window = exhausted.elapsed();
    let cpu = cpu_time(server.id())
        .zip(cpu_before)
        .map(|(after, before)| after - before);

    // 节流:任何一段时间 T 里最多 1 + T/(5 秒) 行。不节流的话,每 100 毫秒就是一行。
    let output = server.output();
    let warnings = output.stderr().matches(failing).count();
    let allowed = 1 + started.elapsed().as_secs() / 5;
    assert!(
        warnings as u64 <= allowed && output.dropped().1 == 0,
        "{:?} 里打印了 {warnings} 行「{failing}」(最多 {allowed} 行)",
        started.elapsed()
    );
    // 歇一会儿再试:accept 一直失败的这段时间里,服务器几乎不占 CPU(实测 10 毫秒上下)。
    // 空转的话,它占满一个核心(机器再忙,实测也在一半以上)。
    if let Some(cpu) = cpu {
        assert!(
            cpu < window / 4,
            "accept 一直失败的 {window:?} 里,服务器用了 {cpu:?} 的 CPU:它在空转"
        );
    }
    drop((carol, silent));
}

/// 进程用过的 CPU 时间(用户态加内核态),从 /proc 读;读不到(不是 Linux)时返回 None。
#[cfg(unix)]
fn cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // 第 2 项是括号里的程序名(里面可能有空格),从最后一个「)」之后数:utime、stime 是第 14、15 项。
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // 一「tick」是 1/CLK_TCK 秒;Linux 上它几乎总是 100。
    let per_second = Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|out| {
            String::from_utf8_lossy(&out.stdout)
                .trim()
                .parse::<u64>()
                .ok()
        })
        .filter(|&hz| hz > 0)
        .unwrap_or(100);
    Some(Duration::from_millis(ticks * 1000 / per_second))
}
