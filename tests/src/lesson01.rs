//! 第 1 课的评分器:一次性的 UDP 服务器。
//!
//! 规格(与 book/src/01-udp-server.md 一致):
//! - 绑定 `--host`(默认 127.0.0.1)和 `--port`(默认 7852),第一行 stdout 打印实际地址;
//! - 收一个数据报(最多 65507 字节),打印它的文字(坏的 UTF-8 用 � 显示)和发送方地址;
//! - 把完全相同的字节发回给发送方,然后以退出码 0 退出;
//! - 出错时(比如端口被占用)在 stderr 说明原因,以非 0 退出码退出,不 panic。

use std::net::UdpSocket;

use predicates::prelude::*;

use crate::failure::Failure;
use crate::grader::{
    EXIT, ErrorExit, LATE, Lesson, NOT_A_SUCCESS, REPLY, Server, Session, Step, deadline,
    describe_exit, diagnose_stderr, each_at_once, scaled,
};
use crate::inputs::{self, Input, Kind};
use crate::rules::Rule;
use crate::text::python_bytes;
use crate::udp::{UdpPeer, expect_echo, expect_nothing_more};

pub const LESSON: Lesson = Lesson {
    number: "01",
    title: "UDP 服务器",
    chapter: "book/src/01-udp-server.md",
    rules: RULES,
    server_keeps_running: false,
    steps: &[
        Step {
            name: "启动后在第一行打印实际绑定的地址",
            points: 2,
            check: prints_its_address,
        },
        Step {
            name: "把一个数据报原样发回给发送方",
            points: 2,
            check: echoes_one_datagram,
        },
        Step {
            name: "在 stdout 打印收到的文字和发送方地址",
            points: 1,
            check: prints_text_and_sender,
        },
        Step {
            name: "回复之后以退出码 0 退出",
            points: 1,
            check: exits_after_replying,
        },
        Step {
            name: "各种大小的数据报都完整地发回：8000 字节（不截断）、0 字节、65507 字节",
            points: 2,
            check: keeps_large_datagrams_whole,
        },
        Step {
            name: "坏的 UTF-8 不会让服务器 panic",
            points: 1,
            check: survives_invalid_utf8,
        },
        Step {
            name: "端口被占用时报错退出，而不是 panic",
            points: 1,
            check: reports_address_in_use,
        },
        Step {
            name: "用 --host ::1 启动：在 IPv6 的回环地址上也一样",
            points: 1,
            check: works_on_ipv6,
        },
    ],
};

/// 规则清单:章节里写明的每一条要求,由哪几项检查,又有哪些故意写错的程序违反它
/// (见 [`crate::rules`];`course dev check` 核对它,课本「评分器检查什么」一节由它生成)。
pub const RULES: &[Rule] = &[
    Rule {
        id: "address",
        rule: "启动后的第一行里有实际绑定的地址：回环 IP，系统分配的端口",
        says: "**第一行**：实际绑定的地址，也就是 `socket.local_addr()` 的结果",
        checks: &[1],
        broken_by: &["fixture-silent", "fixture-crash"],
    },
    Rule {
        id: "echo-exact",
        rule: "收到什么，就把完全相同的字节作为一个数据报发回去，不多发",
        says: "服务器把**完全相同的字节**作为**一个**数据报发回去",
        checks: &[2, 5, 6],
        broken_by: &["fixture-udp-server-truncates", "fixture-udp-server-sleeps"],
    },
    Rule {
        id: "reply-to-sender",
        rule: "回复发往 recv_from 报告的发送方地址，用收到数据的那个套接字",
        says: "回复发往 `recv_from` 报告的**发送方地址**",
        checks: &[2],
        broken_by: &["fixture-udp-server-fixed-port"],
    },
    Rule {
        id: "log",
        rule: "收到以后，stdout 上有一行同时含有收到的文字和发送方地址",
        says: "一行同时含有收到的文字和发送方的地址",
        checks: &[3],
        broken_by: &["fixture-udp-server-logs-length"],
    },
    Rule {
        id: "exit-after-reply",
        rule: "回复一次以后，以退出码 0 退出",
        says: "回复完，程序退出。",
        checks: &[4],
        broken_by: &["fixture-udp-loop-debug-log"],
    },
    Rule {
        id: "invalid-utf8",
        rule: "坏的 UTF-8 显示成 �，不 panic，照样原样回复",
        says: "坏的 UTF-8 字节要显示成 `�`",
        checks: &[6],
        broken_by: &["fixture-udp-server-unwraps-utf8"],
    },
    Rule {
        id: "bind-error",
        rule: "绑定失败时马上在 stderr 说明（含端口），以退出码 1 退出，不 panic，不重试",
        says: "运行时出错：绑定失败、收发失败",
        checks: &[7],
        broken_by: &[
            "fixture-udp-server-panics-on-bind",
            "fixture-udp-server-slow-bind-error",
        ],
    },
    Rule {
        id: "ipv6",
        rule: "--host 说了绑定在哪就绑定在哪，IPv6 的 ::1 也一样",
        says: "`--host` 可以是 IPv4 地址，也可以是 IPv6 地址",
        checks: &[8],
        broken_by: &["fixture-udp-server-ignores-host"],
    },
];

/// 第 2 步和第 3 步用的消息:非 ASCII,能抓出字节和字符的混淆。
const HELLO: &str = "你好,世界";

fn reproduce(name: &str, text: &str) -> String {
    format!(
        "终端 1: cargo run -p {name}\n\
         终端 2: printf '{text}' | cargo run -q -p course -- nc -u -w 1 127.0.0.1 7852\n\
         (nc 会把服务器的回复打印出来。)"
    )
}

/// 一个 `len` 字节、结尾带标记的数据报,截断了一眼就能看出来。
pub fn large_payload(len: usize) -> Vec<u8> {
    let mut payload: Vec<u8> = b"0123456789abcdef"
        .iter()
        .copied()
        .cycle()
        .take(len)
        .collect();
    payload[len - 3..].copy_from_slice(b"END");
    payload
}

/// 启动服务器,从一个新的客户端发「你好,世界」,期望原样的回复。
fn echo_hello(session: &mut Session) -> Result<(Server, UdpPeer), Failure> {
    let mut server = session.start_server(&[])?;
    let peer = UdpPeer::bind();
    let reproduce = reproduce(session.name(), HELLO);
    expect_echo(&mut server, &peer, HELLO.as_bytes(), &reproduce)?;
    Ok((server, peer))
}

/// 第 3 课也用这一步。
pub(crate) fn prints_its_address(session: &mut Session) -> Result<(), Failure> {
    session.start_server(&[]).map(drop)
}

/// 第 3 课也用这一步。回声恰好一个数据报:回复之后,再也没有别的数据报。
///
/// 先用「你好,世界」,再用输入目录里的各种文字、空白、控制字符和换行,每个都交给一个新启动的
/// 服务器(第 1 课的服务器只回复一次)。坏的 UTF-8 和各种大小各有自己的检查。
pub(crate) fn echoes_one_datagram(session: &mut Session) -> Result<(), Failure> {
    let (server, peer) = echo_hello(session)?;
    expect_nothing_more(
        &server,
        &peer,
        &format!("「{HELLO}」,并且已经收到了它的回声"),
        &reproduce(session.name(), HELLO),
    )?;
    echo_each(
        session,
        inputs::pick(&[Kind::Text, Kind::Space, Kind::Control, Kind::Newline]),
    )
}

/// 每个输入交给一个新启动的服务器,一起等回声(每个都要等一会儿,确认没有多出来的数据报)。
/// 第 3 课也用它。
pub(crate) fn echo_each(session: &mut Session, inputs: Vec<Input>) -> Result<(), Failure> {
    let start = |input: Input| {
        let server = session.start_server(&[])?;
        let reproduce = reproduce_bytes(session.name(), &input.bytes);
        Ok((input, server, reproduce))
    };
    each_at_once(inputs, start, |(input, mut server, reproduce)| {
        let peer = UdpPeer::bind();
        expect_echo(&mut server, &peer, &input.bytes, &reproduce)
            .and_then(|()| {
                let after = "这个数据报,并且已经收到了它的回声";
                expect_nothing_more(&server, &peer, after, &reproduce)
            })
            .map_err(|f| f.sent_note(input.note()).about(&server.program))
    })
}

/// 发任意字节、看回声的手动重现:用 Python,因为 printf 写不出某些字节。
pub(crate) fn reproduce_bytes(name: &str, bytes: &[u8]) -> String {
    format!(
        "终端 1: cargo run -p {name}\n\
         终端 2: python3 -c \"import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); \
         s.settimeout(2); s.sendto({}, ('127.0.0.1', 7852)); print(s.recvfrom(65535))\"",
        python_bytes(bytes)
    )
}

fn prints_text_and_sender(session: &mut Session) -> Result<(), Failure> {
    let (server, peer) = echo_hello(session)?;

    let sender = peer.addr().to_string();
    let shows_both = predicate::str::contains(HELLO).and(predicate::str::contains(sender.as_str()));
    let one_line_shows_both = |stdout: &str| stdout.lines().any(|line| shows_both.eval(line));
    if server
        .program
        .wait_stdout_until(deadline(REPLY), one_line_shows_both)
        .is_ok()
    {
        return Ok(());
    }
    Err(Failure::new("stdout 里没有同时出现收到的文字和发送方地址")
        .sent(
            HELLO.as_bytes(),
            format!("{}(从 {sender} 发出)", server.addr),
        )
        .expected(format!("某一行输出里有「{HELLO}」和发送方地址 {sender}"))
        .actual("见下面服务器的 stdout")
        .hint(
            "把字节转成文字再打印:String::from_utf8_lossy(&buf[..n])。\
             发送方地址就是 recv_from 返回的第二个值,用 {} 打印它。",
        )
        .reproduce(reproduce(session.name(), HELLO)))
}

fn exits_after_replying(session: &mut Session) -> Result<(), Failure> {
    let (mut server, _peer) = echo_hello(session)?;

    let status = server.program.wait_exit(deadline(EXIT));
    if status.is_some_and(|s| s.success()) {
        return Ok(());
    }
    let failure = Failure::new("回复之后,程序没有以退出码 0 退出")
        .sent(HELLO.as_bytes(), server.addr)
        .expected("回复一个数据报以后,说声再见,以退出码 0 退出(这一课的服务器只服务一次)")
        .reproduce(reproduce(session.name(), HELLO));
    Err(match status {
        None => failure
            .actual(format!("{} 秒后程序还在运行", scaled(EXIT).as_secs()))
            .hint("第 1 课的服务器不循环:收一个、回一个,然后 run 返回 Ok(())。永远运行的版本是第 3 课。"),
        Some(status) => failure
            .actual(describe_exit(Some(status)))
            .hint(diagnose_stderr(&server.program.output().stderr())),
    })
}

fn keeps_large_datagrams_whole(session: &mut Session) -> Result<(), Failure> {
    let mut server = session.start_server(&[])?;
    let peer = UdpPeer::bind();
    let reproduce = format!(
        "终端 1: cargo run -p {}\n\
         终端 2: python3 -c \"import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); \
         s.sendto(b'a' * 8000, ('127.0.0.1', 7852)); print(len(s.recvfrom(65535)[0]))\"\n\
         (应该打印 8000。)",
        session.name()
    );
    expect_echo(&mut server, &peer, &large_payload(8000), &reproduce)?;
    // 长度的两头:0 字节,和 UDP(IPv4)允许的最大 65507 字节。
    let mut sizes = inputs::pick(&[Kind::Empty]);
    sizes.extend(largest_datagram());
    echo_each(session, sizes)
}

/// UDP 在 IPv4 上允许的最大数据报:65507 字节。macOS 默认只允许 9216 字节的数据报
/// (net.inet.udp.maxdgram),评分器自己都发不出去,在那里不试。
pub(crate) fn largest_datagram() -> Option<Input> {
    (!cfg!(target_os = "macos")).then(|| Input {
        kind: Kind::Text,
        name: "最大的数据报(65507 字节)",
        bytes: large_payload(65_507),
    })
}

fn survives_invalid_utf8(session: &mut Session) -> Result<(), Failure> {
    let mut server = session.start_server(&[])?;
    let peer = UdpPeer::bind();
    let payload = b"\xff\xfe hi \xe4\xbd";
    let reproduce = format!(
        "终端 1: cargo run -p {}\n终端 2: printf '\\377\\376 hi' | cargo run -q -p course -- nc -u -w 1 127.0.0.1 7852",
        session.name()
    );
    expect_echo(&mut server, &peer, payload, &reproduce)?;

    if server
        .program
        .wait_stdout_until(deadline(REPLY), |stdout| stdout.contains('\u{FFFD}'))
        .is_ok()
    {
        // 再用输入目录里的各种坏字节(截断的汉字、多余的后续字节、超长编码……)。
        return echo_each(session, inputs::pick(&[Kind::BadUtf8]));
    }
    Err(Failure::new("坏的 UTF-8 字节没有显示成 �")
        .sent(payload, server.addr)
        .expected("打印收到的文字时,坏的字节显示为 �(U+FFFD)")
        .actual("见下面服务器的 stdout")
        .hint("用 String::from_utf8_lossy 把字节转成文字:它不会失败,坏的字节变成 �。")
        .reproduce(reproduce))
}

fn reports_address_in_use(session: &mut Session) -> Result<(), Failure> {
    // 评分器自己先占住一个端口,并且一直占着:这个端口一定是「被占用」的,不存在竞争。
    let holder = UdpSocket::bind("127.0.0.1:0").expect("评分器无法绑定 127.0.0.1:0");
    let port = holder
        .local_addr()
        .expect("已绑定的套接字一定有地址")
        .port()
        .to_string();
    let run = session.run_to_end("服务器", &["--port", &port], EXIT);
    drop(holder);

    let failure = Failure::new("端口被占用时,程序没有好好地报错退出")
        .ran(format!("{} --port {port}(这个端口已经被评分器占用)", session.name()))
        .expected(format!(
            "stderr 里有一句说明(含端口 {port}),以非 0 退出码退出;不 panic"
        ))
        .actual(run.describe())
        .reproduce(format!(
            "终端 1: cargo run -p {name}\n终端 2: cargo run -p {name}   (第二个会因为端口被占用而失败)",
            name = session.name()
        ))
        .read("出错时怎么办");

    run.expect_error_exit(
        &failure,
        ErrorExit {
            hung: "绑定失败以后程序没有退出。绑定出错时用 ? 把错误交给 main,由 main 打印并返回失败的退出码。",
            panicked: "程序 panic 了。绑定失败是正常的运行时错误(端口被别人占了),不是 bug:\
                       不要 unwrap(),用 ? 和 with_context 把「无法绑定 127.0.0.1:端口」这样的说明带给 main。",
            succeeded: NOT_A_SUCCESS,
            explains: predicate::str::contains(port.as_str()),
            unexplained: "错误信息要说清是哪个地址出了问题:with_context(|| format!(\"无法绑定 {host}:{port}\"))。",
        },
    )?;
    // 绑定失败是立刻就知道的事:马上报错,不要重试,也不要等。
    if run.elapsed > scaled(LATE) {
        return Err(failure
            .headline("端口被占用,程序却过了好一会儿才报错退出")
            .actual(format!("{:.1} 秒后才退出", run.elapsed.as_secs_f64()))
            .hint("绑定失败时马上报错退出:不要重试,也不要在报错之前等待。"));
    }
    Ok(())
}

/// 第 3 课也用这一步。`--host` 决定绑定在哪个地址上:IPv6 的回环地址 ::1 也行。
pub(crate) fn works_on_ipv6(session: &mut Session) -> Result<(), Failure> {
    if !inputs::has_ipv6_loopback() {
        return Err(Failure::skip(inputs::NO_IPV6));
    }
    let mut server = session.start_server(&["--host", "::1"])?;
    if !server.addr.is_ipv6() {
        return Err(Failure::new("用 --host ::1 启动,服务器却没有绑定在 ::1 上")
            .ran(format!("{} --port 0 --host ::1", session.name()))
            .expected("第一行打印 IPv6 的地址,比如「正在监听 [::1]:40000」")
            .actual(format!("服务器报出的地址是 {}", server.addr))
            .hint("绑定 --host 参数给的地址:UdpSocket::bind((host, port)),不要写死 127.0.0.1。"));
    }
    let peer = UdpPeer::bind_to(inputs::IPV6_LOOPBACK);
    let reproduce = format!(
        "终端 1: cargo run -p {} -- --host ::1\n\
         终端 2: printf '{HELLO}' | cargo run -q -p course -- nc -u -w 1 ::1 7852",
        session.name()
    );
    expect_echo(&mut server, &peer, HELLO.as_bytes(), &reproduce)
}
