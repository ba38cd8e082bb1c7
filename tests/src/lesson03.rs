//! 第 3 课的评分器:永不停歇的 UDP 回声服务器。
//!
//! 规格(与 book/src/03-udp-loop.md 一致):
//! - 和第 1 课一样绑定地址,第一行 stdout 打印实际地址;
//! - 永远循环:每个数据报(0 到 65507 字节)都原样发回给「它自己的」发送方;
//! - 每个数据报在 stdout 恰好打印一行,含发送方地址和数据报的文字(`from_utf8_lossy`,
//!   控制字符用 `escape_debug` 转义,所以带换行的数据报也只占一行);
//! - 空数据报、坏的 UTF-8 都不会让服务器停下。

use std::time::{Duration, Instant};

use crate::failure::Failure;
use crate::grader::{Lesson, NOTHING_MORE, REPLY, Server, Session, Step, deadline};
use crate::inputs::{self, Kind};
use crate::lesson01::{self, large_payload};
use crate::rules::Rule;
use crate::text::{is_invisible, show_bytes, show_text};
use crate::udp::{UdpPeer, expect_echo, expect_nothing_more, expect_replies};

pub const LESSON: Lesson = Lesson {
    number: "03",
    title: "永不停歇的 UDP 服务器",
    chapter: "book/src/03-udp-loop.md",
    rules: RULES,
    server_keeps_running: true,
    steps: &[
        Step {
            name: "启动后在第一行打印实际绑定的地址",
            points: 1,
            check: lesson01::prints_its_address,
        },
        Step {
            name: "把一个数据报原样发回给发送方",
            points: 1,
            check: lesson01::echoes_one_datagram,
        },
        Step {
            name: "一个接一个地回复，每个数据报打印一行，服务器不退出",
            points: 2,
            check: keeps_serving,
        },
        Step {
            name: "两个客户端交错发送，各自收到自己的回复",
            points: 2,
            check: replies_to_each_sender,
        },
        Step {
            name: "保持数据报的边界：连发的两个分别回复，8000 字节的不截断",
            points: 2,
            check: keeps_datagram_boundaries,
        },
        Step {
            name: "空数据报和坏的 UTF-8 不会让服务器停下",
            points: 2,
            check: survives_empty_and_invalid_datagrams,
        },
        Step {
            name: "数据报里有换行和控制字符，日志照样一个数据报一行，控制字符转义",
            points: 1,
            check: escapes_control_characters_in_the_log,
        },
        Step {
            name: "用 --host ::1 启动：在 IPv6 的回环地址上也一样",
            points: 1,
            check: lesson01::works_on_ipv6,
        },
    ],
};

/// 规则清单:章节里写明的每一条要求,由哪几项检查,又有哪些故意写错的程序违反它
/// (见 [`crate::rules`];`course dev check` 核对它,课本「评分器检查什么」一节由它生成)。
pub const RULES: &[Rule] = &[
    Rule {
        id: "address",
        rule: "启动后的第一行里有实际绑定的地址（和第 1 课一样）",
        says: "**第一行**：实际绑定的地址，规则和第 1 课完全一样",
        checks: &[1],
        broken_by: &["fixture-crash"],
    },
    Rule {
        id: "echo-to-sender",
        rule: "每个数据报都原样发回给它自己的发送方，一个不少，一个不多，不截断",
        says: "发回给**它自己的**发送方",
        checks: &[2, 4, 5],
        broken_by: &[
            "fixture-udp-loop-first-client",
            "fixture-udp-loop-send-without-address",
            "fixture-udp-loop-small-buffer",
        ],
    },
    Rule {
        id: "forever",
        rule: "服务器永远循环，不会自己退出",
        says: "服务器不会自己退出。",
        checks: &[3],
        broken_by: &["fixture-udp-server-english"],
    },
    Rule {
        id: "log-line",
        rule: "每个数据报在 stdout 恰好打印一行：发送方地址和文字，控制字符转义",
        says: "**每个数据报恰好一行**，含发送方地址和数据报的文字",
        checks: &[3, 7],
        broken_by: &["fixture-udp-loop-logs-bytes", "fixture-udp-loop-raw-log"],
    },
    Rule {
        id: "empty-and-invalid",
        rule: "空数据报也回复（回一个空数据报）；坏的 UTF-8 不让服务器停下",
        says: "长度为 0 的数据报也要回复，回一个空数据报。",
        checks: &[6],
        broken_by: &[
            "fixture-udp-loop-skips-empty",
            "fixture-udp-loop-strict-utf8",
        ],
    },
    Rule {
        id: "ipv6",
        rule: "--host 说了绑定在哪就绑定在哪，IPv6 的 ::1 也一样",
        says: "`--host` 可以是 IPv4 地址，也可以是 IPv6 地址",
        checks: &[8],
        broken_by: &["fixture-udp-loop-ignores-host"],
    },
];

fn reproduce(name: &str) -> String {
    format!(
        "终端 1: cargo run -p {name}\n\
         终端 2: cargo run -q -p course -- nc -u 127.0.0.1 7852      (每输入一行回车,都应该被原样发回)\n\
         终端 3: cargo run -q -p course -- nc -u 127.0.0.1 7852      (再开一个客户端,两边交替输入)"
    )
}

/// 完整的行(最后一个换行之后、还没写完的那半行不算)。
fn complete_lines(stdout: &str) -> Vec<&str> {
    let mut lines: Vec<&str> = stdout.split('\n').collect();
    lines.pop();
    lines
}

/// 一个数据报的日志行里应该有什么。
struct Logged<'a> {
    payload: &'a [u8],
    /// 这一行里必须有的文字(从数据报的文字来)。
    shows: Vec<String>,
}

impl<'a> Logged<'a> {
    /// 普通的文字:日志里要有它本身。
    fn text(payload: &'a [u8]) -> Logged<'a> {
        Logged {
            payload,
            shows: vec![String::from_utf8_lossy(payload).into_owned()],
        }
    }
}

/// 「每个数据报恰好一行」:从第 `before` 行之后,stdout 上的行和 `sent` 里的数据报一一对应,
/// 每一行都有发送方地址和那个数据报的文字,一行不多,一行不少,行里没有原样的控制字符。
fn expect_one_line_each(
    server: &mut Server,
    before: usize,
    sender: &str,
    sent: &[Logged],
    reproduce: &str,
) -> Result<(), Failure> {
    let want = before + sent.len();
    // 先等够行数(日志可能在回复之后才打印),再等一小会儿,看有没有多出来的行。
    let _ = server
        .program
        .wait_stdout_until(deadline(REPLY), |out| complete_lines(out).len() >= want);
    let _ = server
        .program
        .wait_stdout_until(deadline(NOTHING_MORE), |out| {
            complete_lines(out).len() > want
        });
    let stdout = server.program.output().stdout();
    let lines: Vec<&str> = complete_lines(&stdout).into_iter().skip(before).collect();
    let sent_note = sent
        .iter()
        .map(|logged| show_bytes(logged.payload))
        .collect::<Vec<_>>()
        .join("、");
    let failure =
        |headline: &str| {
            Failure::new(headline)
            .sent_note(format!("从 {sender} 先后发出 {} 个数据报:{sent_note}", sent.len()))
            .expected(format!(
                "stdout 上恰好多出 {} 行,一个数据报一行,每行都有发送方地址 {sender} 和数据报的文字\
                 (控制字符转义成 \\n、\\u{{1b}} 这样的写法)",
                sent.len()
            ))
            .reproduce(reproduce)
        };
    const ONE_LINE: &str = "每收到一个数据报,用一个 println! 打印一行:发送方地址,加上\
         String::from_utf8_lossy(data).escape_debug()。escape_debug 把换行变成 \\n、把 ESC 变成 \\u{1b},\
         所以数据报里有换行也只占一行,别人发来的控制字符也不会作用到你的终端上。";
    if lines.len() < sent.len() {
        return Err(failure("stdout 里没有为每个数据报打印一行")
            .actual(format!(
                "只多出了 {} 行(见下面服务器的 stdout)",
                lines.len()
            ))
            .hint(ONE_LINE));
    }
    if lines.len() > sent.len() {
        return Err(failure("一个数据报打印了不止一行")
            .actual(format!("多出了 {} 行(见下面服务器的 stdout)", lines.len()))
            .hint(ONE_LINE));
    }
    for (line, logged) in lines.iter().zip(sent) {
        if !line.contains(sender) {
            return Err(failure("日志里有一行没有发送方地址")
                .actual(format!("这一行是「{}」", show_text(line)))
                .hint(
                    "每一行都要带上发送方地址(recv_from 返回的第二个值,用 {} 打印):\
                     好几个客户端同时在发,看日志的人才分得清谁是谁。",
                ));
        }
        if let Some(raw) = line.chars().find(|&c| is_invisible(c) && c != '\t') {
            return Err(failure("日志里有原样的控制字符")
                .actual(format!(
                    "这一行里有 {}:「{}」",
                    crate::text::visible(&raw.to_string()),
                    show_text(line)
                ))
                .hint(ONE_LINE));
        }
        if let Some(missing) = logged
            .shows
            .iter()
            .find(|text| !line.contains(text.as_str()))
        {
            // {:?} 打印 &[u8] 是「[231, 172, …]」:头两个字节的数字就在行里。
            let as_numbers = logged.payload.len() >= 2
                && line.contains(&format!("{}, {}", logged.payload[0], logged.payload[1]));
            let hint = if as_numbers {
                "日志里打印的是字节的数字({:?} 打印 &[u8] 就是这样),不是文字。\
                 先用 String::from_utf8_lossy(data) 把字节变成文字,再打印它(用 escape_debug 转义)。"
            } else {
                ONE_LINE
            };
            return Err(failure("日志里没有数据报的文字")
                .actual(format!(
                    "这一行里没有「{}」:「{}」",
                    show_text(missing),
                    show_text(line)
                ))
                .hint(hint));
        }
    }
    Ok(())
}

/// 服务器应该还在运行;如果它已经退出了,说明它不是一个循环。
fn expect_still_running(server: &mut Server, name: &str) -> Result<(), Failure> {
    server.expect_still_running(
        "服务器永远循环,回复完一个数据报就去等下一个",
        &reproduce(name),
    )
}

fn keeps_serving(session: &mut Session) -> Result<(), Failure> {
    let mut server = session.start_server(&[])?;
    let peer = UdpPeer::bind();
    let reproduce = reproduce(session.name());
    let messages: Vec<String> = (1..=3).map(|n| format!("第 {n} 条消息")).collect();
    for (n, message) in messages.iter().enumerate() {
        if let Err(failure) = expect_echo(&mut server, &peer, message.as_bytes(), &reproduce) {
            // 前面的消息都有回复,这一条却没有:最常见的原因是服务器回复一次就退出了。
            if n > 0 {
                expect_still_running(&mut server, session.name())?;
            }
            return Err(failure);
        }
    }
    expect_nothing_more(
        &server,
        &peer,
        "三条消息,并且已经收到了三个回声",
        &reproduce,
    )?;
    expect_still_running(&mut server, session.name())?;

    // 三个数据报,stdout 上恰好多出三行(第一行是启动信息)。
    let sent: Vec<Logged> = messages
        .iter()
        .map(|m| Logged::text(m.as_bytes()))
        .collect();
    expect_one_line_each(&mut server, 1, &peer.addr().to_string(), &sent, &reproduce)
}

fn replies_to_each_sender(session: &mut Session) -> Result<(), Failure> {
    let mut server = session.start_server(&[])?;
    let (a, b) = (UdpPeer::bind(), UdpPeer::bind());
    let (from_a, from_b) = ("我是客户端 A".as_bytes(), "我是客户端 B".as_bytes());
    // 先让两个客户端都发出去,再去收:服务器必须按每个数据报自己的来源地址回复。
    let watch = server.program.watch_stderr();
    a.send_to_running(from_a, server.addr, &mut server.program);
    b.send_to_running(from_b, server.addr, &mut server.program);
    let reproduce = reproduce(session.name());
    expect_replies(&mut server, &a, &[from_a], watch, &reproduce, || true)?;
    // 等 B 的回复时也留意 A:B 的回复要是被错发给了 A,就不必等满期限了。
    let mut stray = None;
    let watch = server.program.watch_stderr();
    let waited = expect_replies(&mut server, &b, &[from_b], watch, &reproduce, || {
        stray = stray
            .take()
            .or_else(|| a.recv(Instant::now() + Duration::from_millis(1)));
        stray.is_none()
    });
    waited.map_err(|failure| match stray {
        Some(stray) => failure
            .headline("客户端 B 的回复被发给了客户端 A")
            .actual(format!(
                "客户端 A({})又收到了 {}",
                a.addr(),
                show_bytes(&stray.data)
            ))
            .hint(
                "每个数据报都要回给它自己的发送方:用这一次 recv_from 返回的地址,\
                 不要把第一个客户端的地址存起来反复使用。",
            ),
        None => failure,
    })?;
    expect_nothing_more(
        &server,
        &a,
        "「我是客户端 A」,并且已经收到了它的回声",
        &reproduce,
    )?;
    if cfg!(windows) {
        // 放在 A、B 之后:「总回给第一个客户端」的服务器先在上面露出原形,诊断说的是它。
        a_client_leaves_before_its_reply(&mut server);
        expect_echo(&mut server, &a, "我还在".as_bytes(), &reproduce)?;
    }
    expect_still_running(&mut server, session.name())
}

/// Windows 上:一个客户端发完就走了(关掉了套接字),服务器的回复没人收,对方的系统回「端口不可达」,
/// Windows 把它变成服务器下一次 `recv_from` 的 ConnectionReset(os error 10054)。
/// 服务器要把它当成那一个客户端的问题,接着服务别人(课本「在 Windows 上学这门课」);
/// 把它当成致命错误退出的服务器,客户端 A 接下来就等不到回复,失败信息里的 stderr 和提示
/// (10054)说明原因。
///
/// Linux 和 macOS 上,没有 connect 的 UDP 套接字收不到这种错误,这一步什么也考不到;而刚放开的
/// 端口可能马上被同时运行的别的检查用上,收到这里的回复。所以只在 Windows 上做。
fn a_client_leaves_before_its_reply(server: &mut Server) {
    let gone = UdpPeer::bind();
    let gone_addr = gone.addr().to_string();
    gone.send_to_running("我马上就走".as_bytes(), server.addr, &mut server.program);
    drop(gone);
    // 等服务器记下这个数据报(它的日志里有发送方地址);没记下也无妨,接下来的两个客户端照样检查。
    let _ = server
        .program
        .wait_stdout_until(deadline(REPLY), |out| out.contains(&gone_addr));
}

fn keeps_datagram_boundaries(session: &mut Session) -> Result<(), Failure> {
    let mut server = session.start_server(&[])?;
    let peer = UdpPeer::bind();
    let reproduce = reproduce(session.name());
    // 两个数据报紧挨着发出;UDP 保留边界,所以应该收到两个独立的回复,而不是一个「第一个第二个」。
    let (first, second) = ("第一个".as_bytes(), "第二个".as_bytes());
    let watch = server.program.watch_stderr();
    peer.send_to_running(first, server.addr, &mut server.program);
    peer.send_to_running(second, server.addr, &mut server.program);
    expect_replies(
        &mut server,
        &peer,
        &[first, second],
        watch,
        &reproduce,
        || true,
    )?;
    expect_echo(&mut server, &peer, &large_payload(8000), &reproduce)?;
    expect_nothing_more(
        &server,
        &peer,
        "「第一个」「第二个」和一个 8000 字节的数据报,并且已经收到了它们的三个回声",
        &reproduce,
    )
}

fn survives_empty_and_invalid_datagrams(session: &mut Session) -> Result<(), Failure> {
    let mut server = session.start_server(&[])?;
    let peer = UdpPeer::bind();
    let reproduce = format!(
        "终端 1: cargo run -p {}\n\
         终端 2: python3 -c \"import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); \
         s.settimeout(2); s.sendto(b'', ('127.0.0.1', 7852)); print(s.recvfrom(100))\"      (空数据报)\n\
         终端 2: printf '\\377\\376' | cargo run -q -p course -- nc -u -w 1 127.0.0.1 7852      (坏的 UTF-8)",
        session.name()
    );
    // 三个数据报一起发出:跳过空数据报的服务器会先回复后面的两个,评分器马上就能看出来。
    let sent: [&[u8]; 3] = [b"", b"\xff\xfe\xfd", "还在吗?".as_bytes()];
    let watch = server.program.watch_stderr();
    for payload in sent {
        peer.send_to_running(payload, server.addr, &mut server.program);
    }
    expect_replies(&mut server, &peer, &sent, watch, &reproduce, || true).map_err(|f| {
        if f.headline.contains("空数据报") {
            f.read("空数据报不是 EOF")
        } else {
            f
        }
    })?;
    expect_still_running(&mut server, session.name())?;
    // 再用输入目录里的各种坏字节(截断的汉字、多余的后续字节、超长编码……)和空数据报,
    // 一个接一个地发给同一个服务器。
    for input in inputs::pick(&[Kind::BadUtf8, Kind::Empty]) {
        expect_echo(&mut server, &peer, &input.bytes, &reproduce).map_err(|f| {
            let f = f.sent_note(input.note());
            if input.bytes.is_empty() {
                f.read("空数据报不是 EOF")
            } else {
                f
            }
        })?;
    }
    expect_still_running(&mut server, session.name())
}

fn escapes_control_characters_in_the_log(session: &mut Session) -> Result<(), Failure> {
    let mut server = session.start_server(&[])?;
    let peer = UdpPeer::bind();
    let reproduce = format!(
        "终端 1: cargo run -p {}\n\
         终端 2: printf '第一行\\n第二行' | cargo run -q -p course -- nc -u -w 1 127.0.0.1 7852\n\
         (服务器的日志里,这个数据报应该只占一行:第一行\\n第二行)",
        session.name()
    );
    let two_lines = "第一行\n第二行".as_bytes();
    let escape_codes = "\u{1b}[31m红色\u{7}\r".as_bytes();
    expect_echo(&mut server, &peer, two_lines, &reproduce)?;
    expect_echo(&mut server, &peer, escape_codes, &reproduce)?;
    let sent = [
        // 换行转义以后,「第一行」和「第二行」中间是一个看得见的换行记号。
        Logged {
            payload: two_lines,
            shows: vec!["第一行".into(), "第二行".into()],
        },
        Logged {
            payload: escape_codes,
            shows: vec!["[31m红色".into()],
        },
    ];
    expect_one_line_each(&mut server, 1, &peer.addr().to_string(), &sent, &reproduce)?;
    let stdout = server.program.output().stdout();
    let first_two = stdout.clone();
    let first = complete_lines(&stdout)
        .get(1)
        .copied()
        .unwrap_or_default()
        .to_owned();
    let escaped = ["\\n", "\\u{a}", "\\x0a", "\\x0A", "\u{240a}", "\\012"];
    let between = first
        .split_once("第一行")
        .and_then(|(_, rest)| rest.split_once("第二行"))
        .map(|(between, _)| between.to_owned())
        .unwrap_or_default();
    if !escaped.iter().any(|e| between.contains(e)) {
        return Err(Failure::new("数据报里的换行在日志里不见了")
            .sent(two_lines, server.addr)
            .expected("日志行里「第一行」和「第二行」之间有一个看得见的换行记号,比如 \\n(escape_debug 的写法)")
            .actual(format!("这一行是「{}」", show_text(&first)))
            .hint(
                "不要删掉或者换掉控制字符:用 escape_debug 把它们转义成 \\n 这样的写法,\
                 看日志的人才知道数据报里真的有一个换行。",
            )
            .reproduce(reproduce));
    }
    // 再用输入目录里的各种控制字符和换行:每一个都恰好一行,行里有它看得见的部分。
    let catalogue = inputs::pick(&[Kind::Control, Kind::Newline]);
    let logged: Vec<Logged> = catalogue
        .iter()
        .map(|input| Logged {
            payload: &input.bytes,
            shows: visible_parts(&input.lossy()),
        })
        .collect();
    for input in &catalogue {
        expect_echo(&mut server, &peer, &input.bytes, &reproduce)
            .map_err(|f| f.sent_note(input.note()))?;
    }
    let before = complete_lines(&first_two).len();
    expect_one_line_each(
        &mut server,
        before,
        &peer.addr().to_string(),
        &logged,
        &reproduce,
    )?;
    expect_still_running(&mut server, session.name())
}

/// 一段文字里看得见的部分:按控制字符切开以后,每一段不是空白的文字。
fn visible_parts(text: &str) -> Vec<String> {
    text.split(|c: char| is_invisible(c))
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(str::to_owned)
        .collect()
}
