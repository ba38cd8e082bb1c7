//! `course nc` 的测试:对着参考答案的服务器,经本机回环地址收发。
//!
//! 每个测试启动一份参考答案(`--port 0`,读回它打印的地址),再运行 `course nc`,把字节喂给它的
//! stdin,带期限地等它退出,检查它打印了什么、退出码是什么。服务器和 nc 都在期限后被结束。

use std::io::{Read, Write};
use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

use harness::program::Program;
use harness::tcp::RefusingPort;
use harness::text::find_socket_addr;

const COURSE: &str = env!("CARGO_BIN_EXE_course");
/// 每次运行 nc 最多等这么久;正常的运行都在 2 秒以内结束。
const LIMIT: Duration = Duration::from_secs(15);

/// 参考答案的程序。第一次调用时用 cargo 把要用到的几个一起编译好(已经编译过就很快)。
fn solution(package: &str) -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    let target = BUILT.get_or_init(|| {
        // course 在 <target>/debug/course:参考答案编译到同一个 target 目录里。
        let target = Path::new(COURSE)
            .ancestors()
            .nth(2)
            .expect("course 在 target/debug/ 下")
            .to_path_buf();
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "--quiet"])
            .args([
                "-p",
                "solution-01",
                "-p",
                "solution-03",
                "-p",
                "solution-04",
            ])
            .arg("--target-dir")
            .arg(&target)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .expect("无法运行 cargo");
        assert!(status.success(), "参考答案编译失败");
        target
    });
    target
        .join("debug")
        .join(format!("{package}{}", std::env::consts::EXE_SUFFIX))
}

/// 用 `--port 0` 启动一份参考答案,等它打印出地址。
fn start(package: &str, args: &[&str]) -> (Program, SocketAddr) {
    let mut all = vec!["--port", "0"];
    all.extend_from_slice(args);
    let server = Program::spawn(&solution(package), &all).expect("无法启动参考答案");
    let line = server
        .first_line(Instant::now() + LIMIT)
        .expect("参考答案没有打印地址");
    let addr = find_socket_addr(&line).expect("第一行里有地址");
    (server, addr)
}

/// `course nc` 跑完的结果。
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// 运行 `course nc 参数…`,stdin 是 `input`;超过期限就结束它。
fn nc(args: &[&str], input: &[u8]) -> Run {
    let mut child = Command::new(COURSE)
        .arg("nc")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("无法运行 course nc");
    // 写 stdin、读 stdout 和 stderr 各用一个线程,谁也不会因为管道满了而卡住。
    let mut stdin = child.stdin.take().expect("stdin 是 piped 的");
    let input = input.to_vec();
    // nc 提前退出时管道会断,写不进去也无妨:检查的是它的输出和退出码。
    let writer = thread::spawn(move || drop(stdin.write_all(&input)));
    let stdout = drain(child.stdout.take().expect("stdout 是 piped 的"));
    let stderr = drain(child.stderr.take().expect("stderr 是 piped 的"));
    let code = match wait_timeout::ChildExt::wait_timeout(&mut child, LIMIT) {
        Ok(Some(status)) => status.code(),
        _ => {
            let _ = child.kill();
            let _ = child.wait();
            None
        }
    };
    let _ = writer.join();
    Run {
        code,
        stdout: stdout.join().expect("读 stdout 的线程"),
        stderr: stderr.join().expect("读 stderr 的线程"),
    }
}

/// 在后台把一个管道读到底。
fn drain(mut pipe: impl Read + Send + 'static) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

fn host_and_port(addr: SocketAddr) -> (String, String) {
    (addr.ip().to_string(), addr.port().to_string())
}

/// TCP:发一行,把回复打印出来;服务器关闭连接时以 0 退出,不需要 -w。
#[test]
fn tcp_sends_a_line_and_prints_the_reply_until_the_server_closes() {
    let (_server, addr) = start("solution-04", &[]);
    let (host, port) = host_and_port(addr);
    let run = nc(&[&host, &port], "你好,世界\n".as_bytes());
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    assert!(
        run.stdout.starts_with("收到来自 127.0.0.1:")
            && run.stdout.ends_with(" 的消息: 你好,世界\n"),
        "stdout: {:?}",
        run.stdout
    );
}

/// TCP:输入结束时关闭发送方向(像 nc -N),服务器才知道一条不带换行的消息已经完整了。
#[test]
fn tcp_input_without_a_newline_ends_by_closing_the_sending_half() {
    let (_server, addr) = start("solution-04", &[]);
    let (host, port) = host_and_port(addr);
    let started = Instant::now();
    let run = nc(&[&host, &port], "没有换行的消息".as_bytes());
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    assert!(
        run.stdout.ends_with(" 的消息: 没有换行的消息\n"),
        "stdout: {:?}",
        run.stdout
    );
    // 不关闭发送方向的话,服务器要等满它的 5 秒超时,然后不回复就断开。
    assert!(started.elapsed() < Duration::from_secs(4));
}

/// TCP:回复里的控制字符显示成 \x1b、\0 这样,看得见。
#[test]
fn tcp_control_bytes_in_the_reply_are_shown_visibly() {
    let (_server, addr) = start("solution-04", &[]);
    let (host, port) = host_and_port(addr);
    let run = nc(&[&host, &port], b"\x1b[31m\0red\n");
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    assert!(
        run.stdout.ends_with(" 的消息: \\x1b[31m\\0red\n"),
        "stdout: {:?}",
        run.stdout
    );
}

/// UDP:每一行(连同 \n)是一个数据报,最后没有换行的半行也是;每个回复都打印出来,
/// \r 和坏的 UTF-8 看得见;-w 1:输入结束后 1 秒没有新数据就说一声,以 0 退出。
#[test]
fn udp_sends_each_line_as_a_datagram_and_prints_every_reply() {
    let (server, addr) = start("solution-03", &[]);
    let (host, port) = host_and_port(addr);
    let run = nc(
        &["-u", "-w", "1", &host, &port],
        b"\xe7\xac\xac\xe4\xb8\x80\n\xff\xfe\r\nlast",
    );
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    assert_eq!(run.stdout, "第一\n\\xff\\xfe\\r\nlast");
    assert!(
        run.stderr.contains("(等了 1 秒,没有更多数据)"),
        "stderr: {}",
        run.stderr
    );
    // 服务器的日志里每个数据报一行:正好三个,长度分别是 7、4、4 字节。
    let log = server.output().stdout();
    let sizes: Vec<&str> = log
        .lines()
        .skip(1)
        .filter_map(|line| line.split("] ").nth(1)?.split(' ').next())
        .collect();
    assert_eq!(sizes, ["7", "4", "4"], "服务器的日志:\n{log}");
}

/// UDP:空的 stdin 什么也不发(一次性的第 1 课服务器还在等),之后发一行,它回复并退出。
#[test]
fn udp_with_empty_input_sends_nothing() {
    let (mut server, addr) = start("solution-01", &[]);
    let (host, port) = host_and_port(addr);
    let run = nc(&["-u", "-w", "1", &host, &port], b"");
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    assert_eq!(run.stdout, "");
    assert!(
        server.exited().is_none(),
        "服务器收到了东西:{}",
        server.output().stdout()
    );

    let run = nc(&["-u", "-w", "1", &host, &port], "你好,世界".as_bytes());
    assert_eq!(run.stdout, "你好,世界");
    assert!(server.wait_exit(Instant::now() + LIMIT).is_some());
}

/// 主机可以写 localhost;IPv6 的 ::1 写不写方括号都行。
#[test]
fn hosts_can_be_localhost_or_ipv6_with_or_without_brackets() {
    let (_server, addr) = start("solution-04", &[]);
    let run = nc(&["localhost", &addr.port().to_string()], b"hi\n");
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    assert!(
        run.stdout.ends_with(" 的消息: hi\n"),
        "stdout: {:?}",
        run.stdout
    );

    if UdpSocket::bind("[::1]:0").is_err() {
        eprintln!("这台机器没有 IPv6 回环地址 ::1,跳过 IPv6 的部分");
        return;
    }
    let (_server, addr) = start("solution-03", &["--host", "::1"]);
    let port = addr.port().to_string();
    // 两种写法同时试(每一次都要等 -w 的 1 秒)。
    thread::scope(|scope| {
        for host in ["::1", "[::1]"] {
            let port = &port;
            scope.spawn(move || {
                let run = nc(&["-u", "-w", "1", host, port], b"v6\n");
                assert_eq!(run.stdout, "v6\n", "{host}: {}", run.stderr);
            });
        }
    });
}

/// TCP:端口上没有程序在监听时,用中文说清楚,以 1 退出。
#[test]
fn a_refused_tcp_connection_is_explained_in_chinese() {
    let refusing = RefusingPort::bind();
    let (host, port) = host_and_port(refusing.addr());
    let run = nc(&[&host, &port], b"hi\n");
    assert_eq!(run.code, Some(1));
    assert!(run.stderr.contains("被拒绝"), "stderr: {}", run.stderr);
    assert!(
        run.stderr.contains("没有程序在监听"),
        "stderr: {}",
        run.stderr
    );
}

/// UDP:对方端口上没有程序时,系统回「端口不可达」(Linux、macOS 上是 ConnectionRefused,
/// Windows 上是 ConnectionReset,os error 10054),nc 用中文说清楚,以 1 退出。
#[test]
fn udp_to_a_port_nobody_reads_is_explained_in_chinese() {
    // 先绑定再放开,得到一个(几乎一定)没人用的端口。UDP 没有「绑定但不收」的办法:
    // 只要绑定着,系统就不会回「端口不可达」。
    let closed = UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .expect("无法绑定 UDP 套接字");
    let (host, port) = host_and_port(closed);
    let run = nc(&["-u", "-w", "5", &host, &port], b"hi\n");
    assert_eq!(run.code, Some(1), "stderr: {}", run.stderr);
    assert!(
        run.stderr.contains("没有程序在接收 UDP 数据报"),
        "stderr: {}",
        run.stderr
    );
}
