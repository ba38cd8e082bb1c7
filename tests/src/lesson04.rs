//! 第 4 课的评分器:一行一条消息的 TCP 服务器。
//!
//! 规格(与 book/src/04-tcp-server.md 一致):
//! - 绑定 `--host`(默认 127.0.0.1)和 `--port`(默认 8998),第一行 stdout 打印实际地址;
//! - 循环接受连接。每个连接:读一条消息(读到 `\n` 为止,`\r\n` 也行;或者读到 EOF 为止),
//!   回一行 `收到来自 <客户端地址> 的消息: <文字>\n`(坏的 UTF-8 显示为 �),然后关闭连接;
//! - `\r\n` 结尾的一行和 `\n` 结尾的一样:去掉的只有行尾的 `\n` 和它前面的 `\r`,别的空白原样保留;
//! - 一条消息最多 65536 字节(不算换行):超过的,记一行带客户端地址的日志,不回复,断开;
//! - 每一次读或写最多等 `--timeout` 秒;一个出问题的客户端只记日志,服务器继续服务下一个。
//!
//! 一次只服务一个客户端是这一课的写法,但评分器不要求:同时服务多个客户端的服务器也能通过。
//!
//! TCP 是字节流:评分器会把一条消息拆成两次写、把两行放进一次写,
//! 专门抓「一次 read 就是一条消息」的写法。

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::failure::Failure;
use crate::grader::{
    LATE, Lesson, REPLY, STARTUP, Server, Session, Step, deadline, describe_exit, diagnose_stderr,
    each_at_once, scaled,
};
use crate::inputs::{self, Input, Kind};
use crate::lesson01::large_payload;
use crate::rules::Rule;
use crate::tcp::{ReadEnding, Received, TcpClient, describe_io_error, stall};
use crate::text::{python_bytes, show_bytes};

pub const LESSON: Lesson = Lesson {
    number: "04",
    title: "TCP 服务器",
    chapter: "book/src/04-tcp-server.md",
    rules: RULES,
    server_keeps_running: true,
    steps: &[
        Step {
            name: "启动后在第一行打印实际绑定的地址",
            points: 1,
            check: prints_its_address,
        },
        Step {
            name: "收一行、回一行『收到来自 <地址> 的消息: <文字>』，然后关闭连接",
            points: 2,
            check: replies_with_one_line_and_closes,
        },
        Step {
            name: "一个接一个地服务三个客户端，服务器不退出",
            points: 1,
            check: serves_clients_one_after_another,
        },
        Step {
            name: "一次写出两行：只有第一行是这条消息",
            points: 1,
            check: takes_only_the_first_line,
        },
        Step {
            name: "一条消息分两次到达：读到换行才算完整",
            points: 2,
            check: waits_for_the_whole_line,
        },
        Step {
            name: "没有换行就关闭发送方向：EOF 也结束一条消息",
            points: 1,
            check: eof_ends_a_message,
        },
        Step {
            name: "60 KiB 的一行，客户端读得很慢，回复也一个字节不少",
            points: 1,
            check: writes_all_of_a_long_reply,
        },
        Step {
            name: "一直不说话的客户端不会卡住后面的客户端",
            points: 1,
            check: a_silent_client_does_not_block_others,
        },
        Step {
            name: "坏的 UTF-8、半路断开和连接重置之后，服务器照常服务",
            points: 2,
            check: survives_bad_input_and_abrupt_clients,
        },
        Step {
            name: "\\r\\n 结尾的一行和 \\n 结尾的一样处理；行首行尾的空格和制表符原样保留",
            points: 1,
            check: treats_crlf_like_lf,
        },
        Step {
            name: "一行最多 65536 字节：恰好 65536 字节照常回复，多 1 个字节就断开，服务器照常服务下一个",
            points: 1,
            check: enforces_the_line_limit,
        },
        Step {
            name: "用 --host ::1 启动：在 IPv6 的回环地址上也一样",
            points: 1,
            check: works_on_ipv6,
        },
        Step {
            name: "一个字节一个字节慢慢发的客户端：一整行 --timeout 秒内没发完，就断开它",
            points: 1,
            check: a_trickling_client_is_cut_off,
        },
    ],
};

/// 规则清单:章节里写明的每一条要求,由哪几项检查,又有哪些故意写错的程序违反它
/// (见 [`crate::rules`];`course dev check` 核对它,课本「评分器检查什么」一节由它生成)。
pub const RULES: &[Rule] = &[
    Rule {
        id: "address",
        rule: "启动后的第一行里有实际绑定的地址（和第 1 课一样）",
        says: "规则和第 1 课一样",
        checks: &[1],
        broken_by: &["fixture-crash"],
    },
    Rule {
        id: "reply-format",
        rule: "恰好回复一行「收到来自 <地址> 的消息: <文字>」，然后关闭连接",
        says: "服务器恰好回复一行：`收到来自 <客户端地址> 的消息: <文字>\\n`",
        checks: &[2],
        broken_by: &["fixture-tcp-server-wrong-format"],
    },
    Rule {
        id: "keep-serving",
        rule: "一个接一个地服务，永不退出；一个客户端出了问题，只记日志",
        says: "服务器在一个循环里接受连接，一次服务一个客户端，永不退出。",
        checks: &[3, 8, 9],
        broken_by: &[
            "fixture-tcp-server-exits-after-first",
            "fixture-tcp-server-exits-on-error",
        ],
    },
    Rule {
        id: "first-line",
        rule: "一条消息到第一个 \\n 为止：两行一起到只算第一行，半行先到要等",
        says: "每个连接只处理**一条**消息。消息到第一个 `\\n` 为止",
        checks: &[4, 5],
        broken_by: &["fixture-tcp-server-one-read"],
    },
    Rule {
        id: "eof",
        rule: "没有换行就读到 EOF，已经收到的也是一条完整的消息",
        says: "客户端没发换行就关闭了发送方向（EOF），已经收到的字节也是一条完整的消息。",
        checks: &[6],
        broken_by: &["fixture-tcp-server-needs-newline"],
    },
    Rule {
        id: "write-all",
        rule: "回复完整地写出去（write_all），客户端读得再慢也一个字节不少",
        says: "我们用 `write_all`",
        checks: &[7],
        broken_by: &["fixture-tcp-server-write-once"],
    },
    Rule {
        id: "timeout",
        rule: "一整行要在 --timeout 秒内发完、每次写最多等 --timeout 秒，超时就断开这个客户端、记下它的地址",
        says: "一整行要在 `--timeout` 秒之内发完（从开始读算起），每一次写最多等 `--timeout` 秒。超时就断开这个客户端，去服务下一个。",
        checks: &[8, 13],
        broken_by: &[
            "fixture-tcp-server-no-timeout",
            "fixture-tcp-server-fixed-timeout",
            "fixture-tcp-server-per-read-timeout",
        ],
    },
    Rule {
        id: "bad-input",
        rule: "坏的 UTF-8 显示成 �；半路断开、重置的客户端只影响自己",
        says: "用 `String::from_utf8_lossy` 转成文字，坏字节变成 `�`",
        checks: &[9],
        broken_by: &["fixture-tcp-server-read-line"],
    },
    Rule {
        id: "crlf",
        rule: "\\r\\n 和 \\n 一样处理，行首行尾的空白原样保留",
        says: "如果它前面还有一个 `\\r`",
        checks: &[10],
        broken_by: &["fixture-tcp-server-keeps-cr", "fixture-tcp-server-trims"],
    },
    Rule {
        id: "limit",
        rule: "一行最多 65536 字节：恰好的照常回复，超过的不回复、断开、记下地址",
        says: "一条消息最多 64 KiB（65536 字节，不算换行）",
        checks: &[11],
        broken_by: &["fixture-tcp-server-no-limit"],
    },
    Rule {
        id: "ipv6",
        rule: "--host 说了绑定在哪就绑定在哪，IPv6 的 ::1 也一样",
        says: "`--host` 可以是 IPv4 地址，也可以是 IPv6 地址",
        checks: &[12],
        broken_by: &["fixture-tcp-server-ignores-host"],
    },
    Rule {
        id: "leave-silently",
        rule: "一个字节都没发就走的客户端不算消息：不回复，记一行带地址的日志",
        says: "一个字节都没发就关闭的，不算消息：记一行日志，不回复。",
        checks: &[9],
        broken_by: &["fixture-tcp-server-no-empty-log"],
    },
];

/// 一条消息最多这么多字节(不算换行),和课本、参考答案一致。
pub const MAX_MESSAGE: usize = 64 * 1024;

/// 服务器对 `client` 发来的 `text` 应该回的那一行。
pub fn reply_line(client: SocketAddr, text: &str) -> String {
    format!("收到来自 {client} 的消息: {text}\n")
}

fn reproduce(name: &str, input: &str) -> String {
    format!(
        "终端 1: cargo run -p {name}\n\
         终端 2: {input} | cargo run -q -p course -- nc 127.0.0.1 8998\n\
         (nc 会打印服务器的回复;服务器关闭连接后 nc 就退出。)"
    )
}

fn prints_its_address(session: &mut Session) -> Result<(), Failure> {
    session.start_server(&[]).map(drop)
}

/// 连上服务器。服务器报出了地址却连不上,多半是 bind 之后出了事(比如崩溃了)。
fn connect(server: &mut Server) -> Result<TcpClient, Failure> {
    TcpClient::connect(server.addr, deadline(STARTUP)).map_err(|err| {
        // 服务器报过地址,现在却连不上:它多半正在退出。等它退完,信息才准确。
        server.settle();
        let failure =
            Failure::new(format!("连不上服务器 {}", server.addr)).actual(describe_io_error(&err));
        match server.program.exited() {
            Some(status) => failure
                .headline("服务器打印了地址,但接着就退出了")
                .actual(describe_exit(Some(status)))
                .hint(diagnose_stderr(&server.program.output().stderr())),
            None => failure.hint(
                "服务器打印了地址,却不接受连接:确认用的是 TcpListener::bind,并且在循环里 accept。",
            ),
        }
    })
}

/// 读服务器的回复,一直读到它关闭连接,然后和 `expected` 比较。
///
/// `sent` 是这一次发出去的字节(失败信息里展示),`mismatch_hint` 是内容不对时最可能的原因。
fn expect_reply(
    server: &mut Server,
    client: &TcpClient,
    sent: &[u8],
    expected: &str,
    mismatch_hint: &str,
    reproduce: &str,
) -> Result<(), Failure> {
    let received = client.read_to_close(deadline(REPLY), || server.program.exited().is_none());
    check_reply(
        server,
        client,
        sent,
        expected,
        mismatch_hint,
        reproduce,
        &received,
    )
}

fn check_reply(
    server: &mut Server,
    client: &TcpClient,
    sent: &[u8],
    expected: &str,
    mismatch_hint: &str,
    reproduce: &str,
    received: &Received,
) -> Result<(), Failure> {
    let got = show_bytes(&received.bytes);
    let failure = |headline: &str| {
        Failure::new(headline)
            .sent(sent, format!("{}(从 {} 发出)", server.addr, client.addr()))
            .expected(format!(
                "回复 {},然后服务器关闭连接",
                show_bytes(expected.as_bytes())
            ))
            .reproduce(reproduce)
    };
    let right_bytes = received.bytes == expected.as_bytes();
    match &received.ending {
        ReadEnding::Closed if right_bytes => Ok(()),
        ReadEnding::GaveUp if right_bytes => Err(failure("回复对了,但服务器没有关闭连接")
            .actual(format!("收到 {got},之后连接一直开着"))
            .hint("每个连接只处理一条消息:回复以后让 TcpStream 离开作用域(drop),连接就关闭了。")),
        ReadEnding::GaveUp if received.bytes.is_empty() => {
            let failure = failure("服务器没有回复");
            Err(match server.program.exited() {
                // 服务器退出了:标题和提示由 grader::run 统一给出(「服务器退出了」和它的原因),
                // 不管评分器先看到的是没有回复、连接关闭还是连接被重置,每次都一样。
                Some(status) => failure.actual(format!(
                    "什么也没收到;服务器{}",
                    describe_exit(Some(status))
                )),
                None => failure
                    .actual(format!(
                        "{} 秒内什么也没收到;服务器还在运行,连接也还开着",
                        scaled(REPLY).as_secs()
                    ))
                    .hint(
                        "服务器可能在等连接关闭:read_to_end / read_to_string 要读到 EOF 才返回,\
                         而客户端还开着连接等你的回复,两边就这样互相等着。\
                         一条消息以换行结束:用 BufReader 的 read_until(b'\\n', …) 读到换行就停。",
                    ),
            })
        }
        ReadEnding::Closed if received.bytes.is_empty() => Err(failure("服务器没有回复就关闭了连接")
            .actual("一个字节也没收到,连接就关闭了")
            .hint(format!(
                "{mismatch_hint}\n服务器多半在处理这条消息时出了错,然后关闭了连接:看看上面 stderr 里它记下的错误。\
                 常见的原因:把没有换行的消息当成了错误(读到 EOF 时,已经读到的内容就是一条完整的消息);\
                 用 read_line 读到了坏的 UTF-8(它会报 InvalidData 错误;用 read_until 读字节)。"
            ))),
        ReadEnding::Error(err) if received.bytes.is_empty() => {
            Err(failure("连接出错,没有收到回复").actual(err.clone()).hint(
                "服务器可能崩溃了,或者在还有数据没读完时就关闭了连接(那样内核会发出 RST,\
                 也就是「连接被重置」)。",
            ))
        }
        _ => {
            let failure = failure("回复不对").actual(match &received.ending {
                ReadEnding::Closed => format!("收到 {got},然后连接关闭了"),
                ReadEnding::Error(err) => format!("收到 {got},然后{err}"),
                _ => format!("收到 {got},之后连接一直开着"),
            });
            let hint = if !received.bytes.ends_with(b"\n")
                && expected.starts_with(&*String::from_utf8_lossy(&received.bytes))
            {
                "回复只到了一半。write 可能只写出一部分,返回值才是真正写出的字节数;\
                 用 write_all,它会一直写到全部写完。"
            } else if !received.bytes.ends_with(b"\n") {
                "回复也是一行:以 \\n 结尾。"
            } else {
                mismatch_hint
            };
            Err(failure.hint(hint))
        }
    }
}

/// 把字节发给服务器。发不出去(比如服务器已经断开了连接)本身就是一次失败。
fn send(client: &TcpClient, bytes: &[u8]) -> Result<(), Failure> {
    client
        .send(bytes)
        .map_err(|err| Failure::new("无法把消息发给服务器").actual(describe_io_error(&err)))
}

/// 发一条完整的消息,期望标准的回复。
fn exchange(server: &mut Server, text: &str, reproduce: &str) -> Result<(), Failure> {
    exchange_bytes(server, text.as_bytes(), reproduce)
}

/// 同 [`exchange`],但消息是任意的字节(可能不是合法的 UTF-8)。
fn exchange_bytes(server: &mut Server, message: &[u8], reproduce: &str) -> Result<(), Failure> {
    let client = connect(server)?;
    let mut line = message.to_vec();
    line.push(b'\n');
    send(&client, &line)?;
    let expected = reply_line(client.addr(), &String::from_utf8_lossy(message));
    expect_reply(
        server,
        &client,
        &line,
        &expected,
        "回复的格式是「收到来自 <客户端地址> 的消息: <文字>」加一个换行:地址用 peer_addr() 或 accept 返回的地址,\
         文字去掉行尾的 \\n(和 \\r)。",
        reproduce,
    )
}

/// 服务器应该还在运行;它退出了,说明它不是一个循环,或者被某个客户端弄崩了。
fn expect_still_running(server: &mut Server, reproduce: &str) -> Result<(), Failure> {
    server.expect_still_running(
        "服务器一直运行,服务完一个客户端就去 accept 下一个",
        reproduce,
    )
}

/// 先用「你好,世界」,再用输入目录里的各种文字和控制字符(引号、反斜杠、emoji、组合字符、
/// ESC……):回复里的文字要和发出的一模一样。空白、坏的 UTF-8 各有自己的检查(第 10、9 项)。
fn replies_with_one_line_and_closes(session: &mut Session) -> Result<(), Failure> {
    let mut server = session.start_server(&[])?;
    exchange(
        &mut server,
        "你好,世界",
        &reproduce(session.name(), "printf '你好,世界\\n'"),
    )?;
    // 每个输入一个新启动的服务器:这一项只查回复的格式,「一个接一个地服务」是第 3 项的事。
    let start = |input: Input| {
        let server = session.start_server(&[])?;
        let reproduce = format!(
            "终端 1: cargo run -p {}\n\
             终端 2: python3 -c \"import socket; s = socket.create_connection(('127.0.0.1', 8998), 2); \
             s.sendall({} + b'\\n'); print(s.recv(65536))\"",
            session.name(),
            python_bytes(&input.bytes)
        );
        Ok((input, server, reproduce))
    };
    let inputs = inputs::lines(&[Kind::Text, Kind::Control]);
    each_at_once(inputs, start, |(input, mut server, reproduce)| {
        exchange_bytes(&mut server, &input.bytes, &reproduce)
            .map_err(|f| f.sent_note(input.note()).about(&server.program))
    })
}

fn serves_clients_one_after_another(session: &mut Session) -> Result<(), Failure> {
    let mut server = session.start_server(&[])?;
    let reproduce = reproduce(session.name(), "printf '第 1 位客户端\\n'");
    for n in 1..=3 {
        let text = format!("第 {n} 位客户端");
        if let Err(failure) = exchange(&mut server, &text, &reproduce) {
            server.settle();
            expect_still_running(&mut server, &reproduce)?;
            return Err(failure);
        }
    }
    expect_still_running(&mut server, &reproduce)
}

const BYTE_STREAM_HINT: &str = "TCP 是字节流,不是一条一条的消息:一次 read 可能只读到半条消息,\
     也可能读到一条半。不能「读一次就当作一条消息」,要一直读到换行为止:\
     用 BufReader::new(&stream) 的 read_until(b'\\n', …)(它读字节;read_line 遇到坏的 UTF-8 会报错)。";

fn takes_only_the_first_line(session: &mut Session) -> Result<(), Failure> {
    let mut server = session.start_server(&[])?;
    let client = connect(&mut server)?;
    let sent = "第一行\n第二行\n".as_bytes();
    send(&client, sent)?;
    let expected = reply_line(client.addr(), "第一行");
    expect_reply(
        &mut server,
        &client,
        sent,
        &expected,
        BYTE_STREAM_HINT,
        &reproduce(session.name(), "printf '第一行\\n第二行\\n'"),
    )
}

fn waits_for_the_whole_line(session: &mut Session) -> Result<(), Failure> {
    let mut server = session.start_server(&[])?;
    let client = connect(&mut server)?;
    let line = "你好,世界\n".as_bytes();
    // 在「界」字的三个字节中间切开:第一段连一个完整的字符都不是。
    let (first, rest) = line.split_at(11);
    let reproduce = reproduce(
        session.name(),
        "(printf '你好,世'; sleep 1; printf '界\\n')",
    );
    send(&client, first)?;
    // 故障注入:停顿一下再发后半段。停顿期间就收到回复,说明服务器把半条消息当成了一整条。
    let early = client.pause_and_listen(scaled(Duration::from_millis(300)));
    if !early.is_empty() {
        return Err(Failure::new("消息还没发完,服务器就回复了")
            .sent(
                first,
                format!("{}(这是一条消息的前 11 字节,后半段还没发)", server.addr),
            )
            .expected("服务器继续读,直到看到换行,才回复")
            .actual(format!("停顿期间就收到了 {}", show_bytes(&early)))
            .hint(BYTE_STREAM_HINT)
            .reproduce(reproduce)
            .read("TCP 是字节流"));
    }
    send(&client, rest)?;
    let expected = reply_line(client.addr(), "你好,世界");
    expect_reply(
        &mut server,
        &client,
        line,
        &expected,
        BYTE_STREAM_HINT,
        &reproduce,
    )
    .map_err(|f| f.read("TCP 是字节流"))
}

/// 先用「没有换行的消息」,再用输入目录里的各种文字和控制字符:每一种都不带换行,
/// 发完就关闭发送方向,每一种一个新启动的服务器(空白是第 10 项的事)。
fn eof_ends_a_message(session: &mut Session) -> Result<(), Failure> {
    let mut messages = vec![("没有换行的消息".as_bytes().to_vec(), None)];
    messages.extend(
        inputs::lines(&[Kind::Text, Kind::Control])
            .into_iter()
            .map(|input| (input.bytes.clone(), Some(input.note()))),
    );
    let start = |(message, note)| Ok((message, note, session.start_server(&[])?));
    let reproduce = format!(
        "终端 1: cargo run -p {}\n\
         终端 2: printf '没有换行的消息' | cargo run -q -p course -- nc 127.0.0.1 8998\n\
         (-N:输入结束后关闭发送方向,服务器就会读到 EOF。)",
        session.name()
    );
    each_at_once(messages, start, |(message, note, mut server)| {
        let client = connect(&mut server)?;
        send(&client, &message)?;
        // 关闭发送方向:服务器会读到 EOF,而我们还能读它的回复。
        client.finish_sending();
        let expected = reply_line(client.addr(), &String::from_utf8_lossy(&message));
        expect_reply(
            &mut server,
            &client,
            &message,
            &expected,
            "读到 EOF(read 返回 Ok(0))时,已经读到的内容就是一条完整的消息,照样回复。",
            &reproduce,
        )
        .map_err(|f| {
            let f = f
                .sent_note("然后关闭了发送方向(shutdown(Write)),服务器会读到 EOF")
                .read("消息的边界：换行或 EOF")
                .about(&server.program);
            match &note {
                Some(note) => f.sent_note(note),
                None => f,
            }
        })
    })
}

fn writes_all_of_a_long_reply(session: &mut Session) -> Result<(), Failure> {
    let mut server = session.start_server(&[])?;
    let client = TcpClient::connect_with_small_buffer(server.addr, deadline(STARTUP))
        .map_err(|err| Failure::new("连不上服务器").actual(describe_io_error(&err)))?;
    let text = String::from_utf8(large_payload(60_000)).expect("large_payload 是 ASCII");
    let line = format!("{text}\n");
    send(&client, line.as_bytes())?;
    // 故障注入:一个读得很慢的客户端。回复比两边的缓冲区加起来还大,
    // 服务器的写会被堵住,直到我们开始读:只调用一次 write 的服务器,这时只写出了一部分。
    stall(scaled(Duration::from_secs(1)));
    let expected = reply_line(client.addr(), &text);
    expect_reply(
        &mut server,
        &client,
        line.as_bytes(),
        &expected,
        "回复要包含完整的消息。",
        &format!(
            "终端 1: cargo run -p {}\n\
             终端 2: python3 -c \"print('x' * 60000)\" | cargo run -q -p course -- nc 127.0.0.1 8998 | wc -c",
            session.name()
        ),
    )
    .map_err(|f| f.read("write 和 write_all"))
}

fn a_silent_client_does_not_block_others(session: &mut Session) -> Result<(), Failure> {
    let mut server = session.start_server(&["--timeout", "1"])?;
    // 一个连上来却一言不发的客户端,一直占着连接。一边让它沉默,一边量服务器过了多久断开它。
    // 计时从连接之前开始:服务器的读超时不可能早于这一刻开始,量出来的只会偏长、不会偏短
    // (评分器连上以后要是恰好没轮到 CPU,从「连上以后」才开始计时,就会冤枉服务器「没等够」)。
    let before = Instant::now();
    let silent = connect(&mut server)?;
    let timeout = Duration::from_secs(1);
    let latest = timeout + scaled(LATE);
    let dropped = silent.watch_close(before, Instant::now() + latest + scaled(LATE));
    let reproduce = format!(
        "终端 1: cargo run -p {} -- --timeout 1\n\
         终端 2: cargo run -q -p course -- nc 127.0.0.1 8998          (连上以后什么也不输入)\n\
         终端 3: printf '我不沉默\\n' | cargo run -q -p course -- nc 127.0.0.1 8998",
        session.name()
    );
    let talker = connect(&mut server)?;
    let line = "我不沉默\n".as_bytes();
    send(&talker, line)?;
    // 服务器最多为沉默的客户端等 1 秒(--timeout 1),然后就该轮到这一位。
    let received = talker.read_to_close(deadline(Duration::from_secs(1) + REPLY), || {
        server.program.exited().is_none()
    });
    let expected = reply_line(talker.addr(), "我不沉默");
    check_reply(
        &mut server,
        &talker,
        line,
        &expected,
        "回复的格式是「收到来自 <客户端地址> 的消息: <文字>」加一个换行。",
        &reproduce,
        &received,
    )
    .map_err(|f| {
        let f = f.sent_note(format!(
            "在这之前,另一个客户端 {} 连上了服务器,但一个字节也不发(服务器用 --timeout 1 启动)",
            silent.addr()
        ));
        // 服务器还在运行、却没有回复:它多半还在等那个不说话的客户端。
        // (服务器退出了的话,原因另有说法,见 grader::run。)
        let f = if server.program.exited().is_none() {
            f.hint(
                "服务器在等那个一直不说话的客户端。给每个连接设置读超时\
                 (stream.set_read_timeout(Some(Duration::from_secs(timeout)))),\
                 超时就记一行日志、断开它,去服务下一个客户端。",
            )
        } else {
            f
        };
        f.read("不说话的客户端")
    })?;

    // 沉默的客户端应该在日志里留下它的地址,这样运维的人才知道是谁。
    let silent_addr = silent.addr().to_string();
    if server
        .program
        .wait_output_until(deadline(Duration::from_secs(1) + REPLY), |output| {
            output.contains(&silent_addr)
        })
        .is_err()
    {
        return Err(Failure::new("日志里没有那个不说话的客户端")
            .sent_note(format!("客户端 {silent_addr} 连上服务器,但一个字节也不发"))
            .expected(format!("stdout 或 stderr 里有一行提到 {silent_addr}(比如「{silent_addr} 超时,断开」)"))
            .actual("见下面服务器的输出")
            .hint("出错或超时的连接,记一行日志,带上对方的地址:eprintln!(\"警告: 处理 {peer} 时出错: {err:#}\")。")
            .reproduce(reproduce));
    }

    // 从两边量时间:不说话的客户端要在 --timeout(1 秒)左右被断开,不能早,也不能晚很多。
    let (ending, after) = dropped
        .recv_timeout(latest + scaled(LATE) * 2)
        .unwrap_or((ReadEnding::GaveUp, latest));
    let failure = |headline: &str| {
        Failure::new(headline)
            .sent_note(format!(
                "客户端 {silent_addr} 连上服务器,但一个字节也不发(服务器用 --timeout 1 启动)"
            ))
            .expected(format!(
                "服务器在 1 秒之后、{:.1} 秒之前断开这个客户端(读超时就是 --timeout 的 1 秒)",
                latest.as_secs_f64()
            ))
            .reproduce(reproduce.clone())
            .read("不说话的客户端")
    };
    if ending == ReadEnding::GaveUp || after > latest {
        let actual = match ending {
            ReadEnding::GaveUp => format!(
                "{:.1} 秒后,连接还开着",
                (latest + scaled(LATE)).as_secs_f64()
            ),
            _ => format!("{:.1} 秒后才断开", after.as_secs_f64()),
        };
        return Err(failure("过了好一会儿,服务器还没有断开那个不说话的客户端")
            .actual(actual)
            .hint(
                "读超时要用 --timeout 的值:stream.set_read_timeout(Some(Duration::from_secs(timeout))),\
                 不要写死,也不要用参数的默认值。超时以后要断开这个连接(让 stream 离开作用域)。",
            ));
    }
    if after < timeout.mul_f64(0.95) {
        return Err(failure("服务器没等够 --timeout 就断开了不说话的客户端")
            .actual(format!("{:.2} 秒后就断开了", after.as_secs_f64()))
            .hint(
                "读超时要用 --timeout 的值(秒):Duration::from_secs(timeout)。\
                 没等够就断开,网络慢一点的正常客户端也会被当成不说话的人。",
            ));
    }
    expect_still_running(&mut server, &reproduce)
}

fn survives_bad_input_and_abrupt_clients(session: &mut Session) -> Result<(), Failure> {
    let mut server = session.start_server(&[])?;
    let reproduce = format!(
        "终端 1: cargo run -p {name}\n\
         终端 2: printf '\\377\\376\\n' | cargo run -q -p course -- nc 127.0.0.1 8998      (坏的 UTF-8)\n\
         终端 2: printf '' | cargo run -q -p course -- nc 127.0.0.1 8998              (连上就走)\n\
         终端 2: printf '我还在这里\\n' | cargo run -q -p course -- nc 127.0.0.1 8998",
        name = session.name()
    );

    // 1. 连上就走,一个字节也不发。
    let leaver = connect(&mut server)?;
    let leaver_addr = leaver.addr().to_string();
    drop(leaver);

    // 2. 坏的 UTF-8:服务器照样回复,坏字节显示成 �。
    let client = connect(&mut server)?;
    let bad = b"\xff\xfe\n";
    send(&client, bad)?;
    let expected = reply_line(client.addr(), "\u{FFFD}\u{FFFD}");
    expect_reply(
        &mut server,
        &client,
        bad,
        &expected,
        "用 String::from_utf8_lossy 把字节变成文字:坏的字节变成 �,不会失败,也不会 panic。",
        &reproduce,
    )
    .map_err(|f| f.sent_note("在这之前,一个客户端连上就断开了,什么也没发"))?;

    // 3. 发完就走,不读回复:服务器的回复会撞上一个已经关闭的连接。
    let hasty = connect(&mut server)?;
    send(&hasty, "说完就走\n".as_bytes())?;
    drop(hasty);

    // 4. 半句话之后重置连接:服务器的下一次读会得到「连接被重置」。
    let rude = connect(&mut server)?;
    send(&rude, "半句话".as_bytes())?;
    rude.reset();

    // 5. 输入目录里的各种坏字节:每一种都照样回复,坏字节变成 �。
    for input in inputs::lines(&[Kind::BadUtf8]) {
        exchange_bytes(&mut server, &input.bytes, &reproduce)
            .map_err(|f| f.sent_note(input.note()))?;
    }

    // 6. 之后来的正常客户端照样得到服务。
    exchange(&mut server, "我还在这里", &reproduce).map_err(|f| {
        f.sent_note("在这之前:一个客户端发完一行不等回复就断开了;另一个发了半句话就重置了连接(RST)")
            .hint(
                "对方断开、重置,只会让处理这一个连接的读或写返回错误(ConnectionReset、BrokenPipe):\
             在循环里记一行日志,然后去 accept 下一个。不要 unwrap 这些错误。",
            )
    })?;
    // 什么也没发就走的那个客户端,不算一条消息,但要记一行日志(带它的地址)。
    if server
        .program
        .wait_output_until(deadline(REPLY), |output| output.contains(&leaver_addr))
        .is_err()
    {
        return Err(Failure::new("日志里没有那个什么也没发就走的客户端")
            .sent_note(format!("客户端 {leaver_addr} 连上服务器,一个字节也没发就断开了"))
            .expected(format!(
                "stdout 或 stderr 里有一行提到 {leaver_addr}(比如「{leaver_addr} 没有发送任何内容就断开了」)"
            ))
            .actual("见下面服务器的输出")
            .hint("read_until 返回 Ok(0):对方什么都没发就关闭了连接。不回复,但要打印一行,带上对方的地址。")
            .reproduce(reproduce));
    }
    expect_still_running(&mut server, &reproduce)
}

fn treats_crlf_like_lf(session: &mut Session) -> Result<(), Failure> {
    let mut server = session.start_server(&[])?;
    let reproduce = reproduce(session.name(), "printf '你好,世界\\r\\n'");
    let hint = "行尾只去掉 \\n 和紧挨在它前面的 \\r(Windows 上的工具和 telnet 用 \\r\\n 结束一行),\
                别的都是消息的内容,原样保留:不要用 trim() 把行首行尾的空格、制表符也去掉。\
                比如:if message.ends_with(b\"\\n\") { message.pop(); if message.ends_with(b\"\\r\") { message.pop(); } }";
    // 「你好,世界」和输入目录里的各种空白,每一种都用 \r\n 和 \n 各发一次。
    let mut texts = vec![("你好,世界".to_owned(), None)];
    texts.extend(
        inputs::lines(&[Kind::Space])
            .into_iter()
            .map(|input| (input.lossy(), Some(input.note()))),
    );
    for (text, note) in texts {
        for ending in ["\r\n", "\n"] {
            let client = connect(&mut server)?;
            let line = format!("{text}{ending}");
            send(&client, line.as_bytes())?;
            let expected = reply_line(client.addr(), &text);
            expect_reply(
                &mut server,
                &client,
                line.as_bytes(),
                &expected,
                hint,
                &reproduce,
            )
            .map_err(|f| {
                let f = f.read("消息的边界：换行或 EOF");
                match &note {
                    Some(note) => f.sent_note(note),
                    None => f,
                }
            })?;
        }
    }
    expect_still_running(&mut server, &reproduce)
}

fn enforces_the_line_limit(session: &mut Session) -> Result<(), Failure> {
    let mut server = session.start_server(&[])?;
    let reproduce = format!(
        "终端 1: cargo run -p {}\n\
         终端 2: python3 -c \"print('x' * 65536)\" | cargo run -q -p course -- nc 127.0.0.1 8998 | wc -c      (恰好 65536 字节:有回复)\n\
         终端 2: python3 -c \"print('x' * 65537)\" | cargo run -q -p course -- nc 127.0.0.1 8998 | wc -c      (多 1 个字节:没有回复,连接被断开)",
        session.name()
    );

    // 恰好在上限上:照常回复。
    let longest = "长".repeat(MAX_MESSAGE / 3) + &"x".repeat(MAX_MESSAGE % 3);
    let client = connect(&mut server)?;
    let line = format!("{longest}\n");
    send(&client, line.as_bytes())?;
    expect_reply(
        &mut server,
        &client,
        line.as_bytes(),
        &reply_line(client.addr(), &longest),
        "恰好 65536 字节(不算换行)的一行还在上限之内,要照常回复:\
         用 take(MAX_MESSAGE + 1) 限制读,多留的那 1 个字节正是为了分清「恰好 65536」和「超过」。",
        &reproduce,
    )
    .map_err(|f| f.read("消息的边界：换行或 EOF"))?;

    // 多 1 个字节:不回复,断开。服务器断开时我们可能还在写,写失败也正常。
    let too_long = "x".repeat(MAX_MESSAGE + 1);
    let client = connect(&mut server)?;
    let rude = client.addr().to_string();
    let _ = client.send_within(format!("{too_long}\n").as_bytes(), deadline(REPLY));
    let received = client.read_to_close(deadline(REPLY), || server.program.exited().is_none());
    let failure = |headline: &str| {
        Failure::new(headline)
            .sent_note(format!(
                "一行 {} 字节的 \"xxx…\",加一个换行(比上限多 1 个字节),从 {rude} 发出",
                MAX_MESSAGE + 1
            ))
            .expected(
                "服务器不回复,记一行带客户端地址的日志,然后断开这个连接(客户端读到连接关闭或被重置)",
            )
            .reproduce(reproduce.clone())
            .read("消息的边界：换行或 EOF")
    };
    const LIMIT_HINT: &str = "一条消息最多 65536 字节(MAX_MESSAGE,不算换行)。\
         用 BufReader::new(stream.take(MAX_MESSAGE + 1)) 限制最多读多少;读满了还没见到换行,\
         就是太长了:bail! 说明原因(带上对方地址),不回复,让 handle 返回,连接随之关闭。\
         不设上限的话,一个一直不发换行的客户端能把服务器的内存吃光。";
    match received.ending {
        ReadEnding::Closed | ReadEnding::Error(_) if received.bytes.is_empty() => {}
        ReadEnding::GaveUp if received.bytes.is_empty() => {
            if server.program.exited().is_none() {
                return Err(failure("超长的一行,服务器既没有回复,也没有断开")
                    .actual(format!(
                        "{} 秒内什么也没收到,连接也一直开着",
                        scaled(REPLY).as_secs()
                    ))
                    .hint(LIMIT_HINT));
            }
            // 服务器退出了:由 grader::run 说明。
            return Err(failure("服务器没有回复,也没有断开"));
        }
        _ => {
            return Err(failure("超过 65536 字节的一行,服务器照样回复了")
                .actual(format!("收到 {}", show_bytes(&received.bytes)))
                .hint(LIMIT_HINT));
        }
    }
    // 日志里要有这个客户端的地址:运维的人才知道是谁发了超长的一行。
    if server
        .program
        .wait_output_until(deadline(REPLY), |output| output.contains(&rude))
        .is_err()
    {
        return Err(failure("日志里没有那个发超长一行的客户端")
            .actual("见下面服务器的输出")
            .hint("超长的一行也是一个出了问题的连接:记一行日志,带上对方的地址,比如「警告: 处理 127.0.0.1:50000 时出错: 一行超过了 65536 字节」。"));
    }
    // 之后来的客户端照常。
    exchange(&mut server, "我的一行不长", &reproduce)
        .map_err(|f| f.sent_note("在这之前,一个客户端发了一行 65537 字节的消息,被断开了"))?;
    expect_still_running(&mut server, &reproduce)
}

fn works_on_ipv6(session: &mut Session) -> Result<(), Failure> {
    if !inputs::has_ipv6_loopback() {
        return Err(Failure::skip(inputs::NO_IPV6));
    }
    let mut server = session.start_server(&["--host", "::1"])?;
    if !server.addr.is_ipv6() {
        return Err(Failure::new("用 --host ::1 启动,服务器却没有绑定在 ::1 上")
            .ran(format!("{} --port 0 --host ::1", session.name()))
            .expected("第一行打印 IPv6 的地址,比如「TCP 服务器已启动,正在监听 [::1]:40000」")
            .actual(format!("服务器报出的地址是 {}", server.addr))
            .hint(
                "绑定 --host 参数给的地址:TcpListener::bind((host, port)),不要写死 127.0.0.1。",
            ));
    }
    let reproduce = format!(
        "终端 1: cargo run -p {} -- --host ::1\n\
         终端 2: printf '你好,世界\\n' | cargo run -q -p course -- nc ::1 8998",
        session.name()
    );
    // 回复里的客户端地址是 IPv6 的样子:[::1]:端口。
    exchange(&mut server, "你好,世界", &reproduce)
}

fn a_trickling_client_is_cut_off(session: &mut Session) -> Result<(), Failure> {
    let mut server = session.start_server(&["--timeout", "1"])?;
    let reproduce = format!(
        "终端 1: cargo run -p {} -- --timeout 1\n\
         终端 2: (for c in 我 在 慢 慢 地 说 话; do printf \"$c\"; sleep 0.3; done; echo) | cargo run -q -p course -- nc 127.0.0.1 8998\n\
         (服务器应该在 1 秒左右断开它,不回复)",
        session.name()
    );
    // 计时从连接之前开始(见第 8 项):量出来的只会偏长,不会冤枉服务器「没等够」。
    let started = Instant::now();
    let trickler = connect(&mut server)?;
    let trickler_addr = trickler.addr().to_string();
    let timeout = Duration::from_secs(1);
    let latest = timeout + scaled(LATE);
    let line = "我在慢慢地说话\n".as_bytes();
    // 故障注入:一个字节一个字节地发,每个字节之间停 0.3 秒(停顿时留意服务器有没有回话、
    // 有没有断开)。每次 read 都等不满 1 秒,可一整行要 6 秒多才发得完。
    let mut reply = Vec::new();
    let mut ending = ReadEnding::GaveUp;
    for byte in line {
        if trickler.send(std::slice::from_ref(byte)).is_err() {
            ending = ReadEnding::Closed;
            break;
        }
        let heard = trickler.read_until(
            Instant::now() + scaled(Duration::from_millis(300)),
            || true,
            |_| false,
        );
        reply.extend_from_slice(&heard.bytes);
        if matches!(heard.ending, ReadEnding::Closed | ReadEnding::Error(_)) {
            ending = heard.ending;
            break;
        }
        if started.elapsed() > latest + scaled(LATE) {
            break;
        }
    }
    let after = started.elapsed();
    let failure = |headline: &str| {
        Failure::new(headline)
            .sent_note(format!(
                "客户端 {trickler_addr} 每隔 0.3 秒发一个字节:「我在慢慢地说话\\n」要 6 秒多才发得完\
                 (服务器用 --timeout 1 启动)"
            ))
            .expected(format!(
                "服务器在 1 秒之后、{:.1} 秒之前断开这个客户端,不回复,日志里记下它的地址;之后照常服务别人",
                latest.as_secs_f64()
            ))
            .reproduce(reproduce.clone())
            .read("不说话的客户端")
    };
    if !reply.is_empty() {
        return Err(failure("慢吞吞的客户端没发完一行,服务器却回复了")
            .actual(format!("收到 {}", show_bytes(&reply)))
            .hint("一整行没发完(没有换行),也没有 EOF,就不是一条消息:不要回复。"));
    }
    if ending == ReadEnding::GaveUp || after > latest {
        return Err(failure("服务器一直在等这个慢吞吞的客户端")
            .actual(format!(
                "{:.1} 秒后连接还开着(它的每一个字节都在 1 秒之内到达)",
                after.as_secs_f64()
            ))
            .hint(
                "set_read_timeout 管的是每一次 read,不是一整行:每隔 0.3 秒来一个字节,每次 read 都不超时。\
                 给一整行设一个期限:每次 read 之前,把读超时设成离期限还剩多久(参考答案里的 Deadline)。",
            ));
    }
    if after < timeout.mul_f64(0.95) {
        return Err(failure("服务器没等够 --timeout 就断开了慢吞吞的客户端")
            .actual(format!("{:.2} 秒后就断开了", after.as_secs_f64()))
            .hint("整行的期限是 --timeout 秒:Duration::from_secs(timeout),从开始读这一行算起。"));
    }
    if server
        .program
        .wait_output_until(deadline(REPLY), |output| output.contains(&trickler_addr))
        .is_err()
    {
        return Err(failure("日志里没有那个慢吞吞的客户端")
            .actual("见下面服务器的输出")
            .hint("期限到了、断开一个客户端时,记一行日志,带上对方的地址。"));
    }
    exchange(&mut server, "轮到我了", &reproduce)
        .map_err(|f| f.sent_note("在这之前,一个慢吞吞的客户端被断开了"))?;
    expect_still_running(&mut server, &reproduce)
}
