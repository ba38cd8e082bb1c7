//! `course nc` 的测试:对着参考答案的服务器,经本机回环地址收发。
//!
//! 每个测试启动一份参考答案(`--port 0`,读回它打印的地址),再运行 `course nc`,把字节喂给它的
//! stdin,带期限地等它退出,检查它打印了什么、退出码是什么。服务器和 nc 都在期限后被结束。

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
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

/// 参考答案的程序。第一次调用时用 cargo 把参考答案编译好(已经编译过就很快)。
fn solution(package: &str) -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    let dir = BUILT.get_or_init(|| {
        // course 在 <target>/debug/course:参考答案编译到同一个 target 目录里。
        let target = Path::new(COURSE)
            .ancestors()
            .nth(2)
            .expect("course 在 target/debug/ 下");
        harness::solutions::build(target)
    });
    harness::solutions::path_in(dir, package)
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

/// UDP:空的 stdin 什么也不发(一次性的第 1 课服务器还在等,之后照常回复第一个数据报)。
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

    // 它真的还在等(不是没在听):直接发一个数据报,它回复并退出。
    // 不再用 nc 发:-w 又要等满 1 秒,发送的那条路上面的测试已经走过了。
    let socket = UdpSocket::bind("127.0.0.1:0").expect("绑定本机端口");
    socket.set_read_timeout(Some(LIMIT)).expect("设置读超时");
    socket.send_to("你好".as_bytes(), addr).expect("发送");
    let mut reply = [0; 64];
    let (n, _) = socket.recv_from(&mut reply).expect("服务器回复");
    assert_eq!(&reply[..n], "你好".as_bytes());
    assert!(server.wait_exit(Instant::now() + LIMIT).is_some());
}

/// 主机可以写 localhost;IPv6 的 ::1 写不写方括号都行。
///
/// 用 TCP 试:主机名的解析在分 TCP 和 UDP 之前,TCP 又不用等 -w 的 1 秒
/// (UDP 走 ::1 的那条路,手动重现命令的测试里有)。
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
    let (_server, addr) = start("solution-04", &["--host", "::1"]);
    let port = addr.port().to_string();
    for host in ["::1", "[::1]"] {
        let run = nc(&[host, &port], b"v6\n");
        assert_eq!(run.code, Some(0), "{host}: {}", run.stderr);
        assert!(
            run.stdout.ends_with(" 的消息: v6\n"),
            "{host}: {:?}",
            run.stdout
        );
    }
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

/// `-l`:扮演服务器。在端口 0 上监听,地址打印在 stderr 上;客户端连上来以后,
/// 它发来的字节打印在 stdout 上(控制字符看得见),stdin 上打的一行发给它;它关闭连接时以 0 退出。
#[test]
fn listen_accepts_one_client_and_talks_with_it() {
    let course = Path::new(COURSE);
    let mut nc = Program::spawn_interactive(course, &["nc", "-l", "127.0.0.1", "0"])
        .expect("无法运行 course nc -l");
    let deadline = Instant::now() + LIMIT;
    nc.wait_output_until(deadline, |text| find_socket_addr(text).is_some())
        .expect("nc -l 没有在 stderr 上打印监听的地址");
    let addr = find_socket_addr(&nc.output().stderr()).expect("stderr 里有地址");

    let mut client = TcpStream::connect(addr).expect("连不上 nc -l");
    client.write_all(b"hi\r\n").expect("发不出去");
    nc.wait_stdout_until(deadline, |out| out == "hi\\r\n")
        .unwrap_or_else(|_| panic!("stdout: {:?}", nc.output().stdout()));
    nc.type_line("回复").expect("打不了字");
    let mut reply = [0u8; 7];
    client
        .set_read_timeout(Some(LIMIT))
        .and_then(|()| client.read_exact(&mut reply))
        .expect("没收到 nc -l 发来的一行");
    assert_eq!(&reply, "回复\n".as_bytes());

    drop(client);
    let status = nc
        .wait_exit(deadline)
        .expect("客户端关闭连接后 nc -l 应该退出");
    assert!(status.success(), "stderr: {}", nc.output().stderr());
    assert!(
        nc.output().stderr().contains("连上来了"),
        "stderr: {}",
        nc.output().stderr()
    );
}

/// `-l` 和 `-u` 不能一起用:UDP 没有「连上来」的客户端。参数错误以 2 退出,用中文说明。
#[test]
fn listen_and_udp_do_not_go_together() {
    let run = nc(&["-l", "-u", "127.0.0.1", "0"], b"");
    assert_eq!(run.code, Some(2), "stderr: {}", run.stderr);
    assert!(!run.stderr.contains("error:"), "stderr: {}", run.stderr);
}

/// 失败信息里「手动重现」的每一条 `course nc` 命令,照印出来的样子都能运行。
///
/// 命令从评分器的源码(tests/src)里找:每一行「终端 N: …」里用到 `cargo run -q -p course -- nc`
/// 的,都在 bash 里跑一遍。和印出来的只差三处:端口换成这次用 `--port 0` 启动的参考答案的端口
/// (`-l` 的换成 0),`cargo run -q -p course --` 换成已经编译好的 course,格式占位符(`{text}` 这样)
/// 填上一句话。要打字的命令(没有管道喂它),替学员打一行再按 Ctrl-D。
///
/// 「能运行」是指:course nc 认得它的参数(不以 2 退出、不印用法)、在期限内结束、
/// 连得上对面(没有「连接被拒绝」「端口不可达」),而且和服务器真的说上了话
/// (`-l` 收到了客户端的一行;UDP 不加 -w 会一直等到 Ctrl-C,收到回复以后由这里结束)。
#[test]
fn every_reproduce_command_with_course_nc_runs_as_printed() {
    let commands = reproduce_commands();
    assert!(
        commands.len() >= 20,
        "只在评分器的源码里找到 {} 条用 course nc 的命令,是不是找的办法坏了?",
        commands.len()
    );
    let has_ipv6 = UdpSocket::bind("[::1]:0").is_ok();
    println!(
        "评分器源码里有 {} 条用 course nc 的手动重现命令",
        commands.len()
    );
    let problems: Vec<String> = thread::scope(|scope| {
        let runs: Vec<_> = commands
            .iter()
            .filter(|command| has_ipv6 || !command.line.contains("::1"))
            .map(|command| scope.spawn(move || run_reproduce(command)))
            .collect();
        runs.into_iter()
            .filter_map(|run| run.join().expect("运行命令的线程"))
            .collect()
    });
    assert!(problems.is_empty(), "\n{}", problems.join("\n\n"));
}

/// 评分器源码里的一条手动重现命令。
struct Reproduce {
    /// 在哪个文件里(用来决定启动哪一课的参考答案)。
    file: String,
    /// 「终端 N:」后面的命令,去掉了行尾的说明,Rust 的转义已经还原。
    line: String,
}

/// 在 tests/src 的每个 .rs 文件里找「终端 N: …course -- nc…」。
fn reproduce_commands() -> Vec<Reproduce> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/src");
    let mut files = vec![root];
    let mut found = Vec::new();
    while let Some(path) = files.pop() {
        if path.is_dir() {
            let entries = std::fs::read_dir(&path).expect("读得了 tests/src");
            files.extend(entries.map(|e| e.expect("目录项").path()));
            continue;
        }
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let source = std::fs::read_to_string(&path).expect("读得了源码");
        for piece in source.lines().flat_map(|line| line.split("\\n")) {
            let Some(start) = piece.find("终端 ") else {
                continue;
            };
            let Some((_, command)) = piece[start..].split_once(": ") else {
                continue;
            };
            let bare = command
                .replace("course -- nc", "")
                .split(|c: char| c.is_whitespace() || c == '|')
                .any(|word| word == "nc");
            assert!(
                !bare,
                "{}: 手动重现里用了系统的 nc(Windows 没有它,macOS 的选项又不一样),\
                 改用 cargo run -q -p course -- nc:{command}",
                path.display()
            );
            if !command.contains("course -- nc") {
                continue;
            }
            found.push(Reproduce {
                file: path.display().to_string(),
                line: unescape(without_note(command)),
            });
        }
    }
    found
}

/// 去掉命令后面的说明(两个以上空格再接「(」)和 Rust 字符串的结尾(`\`、`",`、`")`)。
fn without_note(command: &str) -> &str {
    let mut end = command.len();
    if let Some(i) = command.find("  ") {
        end = i;
    }
    let command = command[..end].trim_end();
    let command = command.trim_end_matches('\\');
    command
        .strip_suffix("\",")
        .or_else(|| command.strip_suffix("\")"))
        .or_else(|| command.strip_suffix('"'))
        .unwrap_or(command)
        .trim_end()
}

/// 还原 Rust 字符串里的 `\\` 和 `\"`。
fn unescape(command: &str) -> String {
    command
        .replace("\\\\", "\u{0}")
        .replace("\\\"", "\"")
        .replace('\u{0}', "\\")
}

/// 照印出来的样子运行一条命令;有问题时返回说明。
fn run_reproduce(command: &Reproduce) -> Option<String> {
    let listen = command.line.contains("nc -l ");
    let udp = command.line.contains("nc -u ");
    let waits = command.line.contains(" -w ");
    let typed = !command.line.contains("| cargo run -q -p course -- nc");
    let ipv6 = command.line.contains("::1");

    let mut line = command.line.clone();
    for (placeholder, filled) in [
        ("{text}", "你好"),
        ("{HELLO}", "你好"),
        ("{input}", "printf '你好\\n'"),
    ] {
        line = line.replace(placeholder, filled);
    }
    if line.contains('{') {
        return Some(format!(
            "{}: 不知道怎么填「{line}」里的占位符",
            command.file
        ));
    }
    let course = format!("'{COURSE}'");
    line = line.replace("cargo run -q -p course --", &course);

    // 对面:参考答案的服务器(`-l` 时 nc 自己是服务器,对面是这里的一个客户端)。
    let mut server = None;
    let port = if listen {
        "0".to_owned()
    } else {
        let (package, mut args): (&str, Vec<&str>) = if command.file.contains("lesson01") {
            ("solution-01", vec![])
        } else if command.file.contains("lesson03") {
            ("solution-03", vec![])
        } else if command.file.contains("lesson04") {
            ("solution-04", vec![])
        } else if command.file.contains("lesson06") {
            ("solution-06", vec!["server"])
        } else {
            return Some(format!("{}: 不知道该启动哪个服务器", command.file));
        };
        args.extend(["--port", "0"]);
        if ipv6 {
            args.extend(["--host", "::1"]);
        }
        let program = Program::spawn(&solution(package), &args).expect("无法启动参考答案");
        let first = program
            .first_line(Instant::now() + LIMIT)
            .expect("参考答案没有打印地址");
        let addr = find_socket_addr(&first).expect("第一行里有地址");
        server = Some(program);
        addr.port().to_string()
    };
    for printed in ["7852", "8998", "2023"] {
        line = line.replace(&format!(" {printed}"), &format!(" {port}"));
    }

    let mut shell =
        Program::spawn_interactive(Path::new("bash"), &["-c", &line]).expect("无法运行 bash");
    let deadline = Instant::now() + LIMIT;
    let mut talked = true;
    if listen {
        let output = shell.output();
        let heard = shell
            .wait_output_until(deadline, |text| find_socket_addr(text).is_some())
            .ok()
            .and_then(|()| find_socket_addr(&output.stderr()))
            .and_then(|addr| TcpStream::connect(addr).ok())
            .and_then(|mut client| client.write_all("你好\n".as_bytes()).ok());
        talked = heard.is_some()
            && shell
                .wait_stdout_until(deadline, |out| out.contains("你好"))
                .is_ok();
    }
    if typed {
        let _ = shell.type_line("你好");
        if udp && !waits {
            // UDP 不加 -w 时 nc 一直等到 Ctrl-C:收到回复就够了。
            talked = shell
                .wait_stdout_until(deadline, |out| out.contains("你好"))
                .is_ok();
            shell.stop();
        }
        shell.close_stdin();
    }
    let status = shell.wait_exit(deadline);
    if let Some(server) = &mut server {
        server.stop();
    }
    let output = shell.output();
    let stderr = output.stderr();
    let problem = if stderr.contains("用法") || status.and_then(|s| s.code()) == Some(2) {
        Some("course nc 不认得它的参数")
    } else if status.is_none() {
        Some("在期限内没有结束")
    } else if !talked {
        Some("没有和对面说上话")
    } else if stderr.contains("被拒绝") || stderr.contains("没有程序在接收") {
        // 命令本身在管道里,它的退出码是管道最后一个程序的(比如 wc):看 nc 自己说了什么。
        // 连接被重置不算:超长的一行就是要让服务器断开连接。
        Some("course nc 连不上对面(连接被拒绝,或者端口不可达)")
    } else {
        None
    };
    problem.map(|why| {
        format!(
            "{}: {why}\n    印出来的:{}\n    运行的:{line}\n    stdout:{:?}\n    stderr:{:?}",
            command.file,
            command.line,
            output.stdout(),
            stderr
        )
    })
}
