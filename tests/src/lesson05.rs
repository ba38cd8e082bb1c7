//! 第 5 课的评分器:带超时的 TCP 客户端。
//!
//! 评分器扮演服务器(一个监听 127.0.0.1 随机端口的 TcpListener),用 `--port` 告诉客户端。
//! 规格(与 book/src/05-tcp-client.md 一致):
//! - 用 `connect_timeout` 连接 `--host`:`--port`,把 `--message` 加上 `\n` 用 write_all 发出;
//! - 读回复:读到 `\n` 为止(不要等连接关闭),或者读到服务器关闭连接为止;
//!   在 stdout 打印回复的文字,以退出码 0 退出;
//! - 打印回复的文字:去掉行尾的 `\n` 和它前面的 `\r`,一个字节不多;
//! - 连接被拒绝(马上)、连接一直没有应答(`--timeout` 秒后)、服务器不回答(`--timeout` 秒后)时,
//!   在 stderr 用中文说明,以非 0 退出码退出,不 panic。

use std::time::{Duration, Instant};

use predicates::prelude::*;

use crate::client::{extra_after_reply, trimmed_reply};
use crate::diagnose::{Cause, Role, cause, diagnose};
use crate::failure::Failure;
use crate::grader::{
    EXIT, ErrorExit, LATE, Lesson, NOT_A_SUCCESS, NOTHING_MORE, REPLY, Session, Step, deadline,
    describe_exit, each_at_once, scaled,
};
use crate::inputs::{self, Input, Kind};
use crate::lesson01::large_payload;
use crate::lesson02::{CLIENT_TIMEOUT, after_reply};
use crate::program::Program;
use crate::rules::Rule;
use crate::tcp::{
    IGNORES_HOST, ReadEnding, RefusingPort, TcpClient, TcpFakeServer, Unanswered, describe_io_error,
};
use crate::text::{Printed, find_printed, mentions_timeout, shell_quote, show_bytes};

pub const LESSON: Lesson = Lesson {
    number: "05",
    title: "TCP 客户端",
    chapter: "book/src/05-tcp-client.md",
    rules: RULES,
    server_keeps_running: false,
    steps: &[
        Step {
            name: "连上服务器，把 --message 加上换行作为一行发出",
            points: 2,
            check: sends_the_message_as_a_line,
        },
        Step {
            name: "打印服务器的回复行，读到换行就停，以退出码 0 退出",
            points: 2,
            check: prints_the_reply_line,
        },
        Step {
            name: "回复分几次到达，也完整地打印；连同换行恰好 64 KiB 的一行也一样",
            points: 2,
            check: prints_a_reply_that_arrives_in_pieces,
        },
        Step {
            name: "回复没有换行、以关闭连接结束，也照样打印",
            points: 1,
            check: prints_a_reply_ended_by_close,
        },
        Step {
            name: "连接被拒绝时，用中文说明并以非 0 退出码退出（不 panic）",
            points: 2,
            check: explains_a_refused_connection,
        },
        Step {
            name: "服务器不回答时，超时后用中文说明并以非 0 退出码退出",
            points: 1,
            check: gives_up_on_a_silent_server,
        },
        Step {
            name: "回复以 \\r\\n 结尾时，打印的文字里不带 \\r",
            points: 1,
            check: prints_a_crlf_reply_without_the_cr,
        },
        Step {
            name: "连接一直没有应答时，超时后用中文说明并以非 0 退出码退出",
            points: 1,
            check: gives_up_on_an_unanswered_connect,
        },
        Step {
            name: "用 --host ::1：服务器在 IPv6 的回环地址上，也一样收发",
            points: 1,
            check: works_on_ipv6,
        },
        Step {
            name: "服务器一个字也不回就关闭连接时，用中文说明并以非 0 退出码退出",
            points: 1,
            check: explains_a_server_that_closes_without_replying,
        },
    ],
};

/// 规则清单:章节里写明的每一条要求,由哪几项检查,又有哪些故意写错的程序违反它
/// (见 [`crate::rules`];`course dev check` 核对它,课本「评分器检查什么」一节由它生成)。
pub const RULES: &[Rule] = &[
    Rule {
        id: "send-line",
        rule: "把 --message 加上一个 \\n，完整地写出去，只发一行",
        says: "把 `--message` 的 UTF-8 字节加上一个 `\\n`，完整地写出去。",
        checks: &[1],
        broken_by: &["fixture-tcp-client-no-newline"],
    },
    Rule {
        id: "read-to-newline",
        rule: "读回复读到第一个 \\n 就停：不等连接关闭，回复分几次到也要读全",
        says: "读到换行就停，**不要**再等连接关闭。",
        checks: &[2, 3],
        broken_by: &[
            "fixture-tcp-client-read-to-end",
            "fixture-tcp-client-one-read",
            "fixture-tcp-client-shutdown-both",
        ],
    },
    Rule {
        id: "eof",
        rule: "服务器不发换行就关闭连接时，读到的就是完整的回复",
        says: "或者读到服务器关闭连接为止",
        checks: &[4],
        broken_by: &["fixture-tcp-client-eof-is-error"],
    },
    Rule {
        id: "print-exact",
        rule: "恰好打印回复：只去掉行尾的 \\n 和它前面的 \\r",
        says: "去掉行尾的 `\\n` 和它前面的 `\\r`，别的一个字节也不多、不少",
        checks: &[2, 7],
        broken_by: &[
            "fixture-tcp-client-untrimmed",
            "fixture-tcp-client-keeps-cr",
        ],
    },
    Rule {
        id: "refused",
        rule: "连接被拒绝时马上说明（地址、「拒绝」），非 0 退出码，不 panic",
        says: "连接被拒绝时，说明里要有地址（含端口）和「拒绝」二字",
        checks: &[5],
        broken_by: &["fixture-tcp-client-panics-on-refusal"],
    },
    Rule {
        id: "read-timeout",
        rule: "服务器不回答时，--timeout 秒后放弃，说明超时，非 0 退出码",
        says: "每一次读、写都最多等 `--timeout` 秒。",
        checks: &[6],
        broken_by: &["fixture-tcp-client-no-read-timeout"],
    },
    Rule {
        id: "connect-timeout",
        rule: "连接一直没有应答时，--timeout 秒后放弃，说明超时，非 0 退出码",
        says: "在 `--timeout` 秒内连上 `--host` 和 `--port` 组成的地址。",
        checks: &[8],
        broken_by: &["fixture-tcp-client-no-connect-timeout"],
    },
    Rule {
        id: "ipv6",
        rule: "--host 可以是 IPv6 地址（比如 ::1），也一样连上、收发",
        says: "`--host` 可以是 IPv4 地址、IPv6 地址",
        checks: &[9],
        broken_by: &["fixture-tcp-client-ignores-host"],
    },
    Rule {
        id: "closed-without-reply",
        rule: "服务器一个字也不回就关闭连接：说明它关闭了连接、没有回复，非 0 退出码",
        says: "服务器一个字也不回就关闭了连接时",
        checks: &[10],
        broken_by: &["fixture-tcp-client-empty-is-reply"],
    },
    Rule {
        id: "reply-limit",
        rule: "回复最多读 64 KiB：连同换行恰好 64 KiB 的一行要完整地打印",
        says: "回复最多读 64 KiB。",
        checks: &[3],
        broken_by: &["fixture-tcp-client-small-limit"],
    },
];

const HELLO: &str = "你好,世界";

/// 正常交换时给客户端的 `--timeout`(秒):比评分器自己的期限短得多,两者永远不会撞在一起
/// (见第 2 课的 [`CLIENT_TIMEOUT`])。
fn client_timeout() -> String {
    scaled(CLIENT_TIMEOUT).as_secs().max(1).to_string()
}

fn start_client(session: &Session, server: &TcpFakeServer) -> Result<Program, Failure> {
    start_client_with(session, server, HELLO)
}

/// 启动客户端,让它把 `message` 发给 `server`。
fn start_client_with(
    session: &Session,
    server: &TcpFakeServer,
    message: &str,
) -> Result<Program, Failure> {
    let port = server.addr().port().to_string();
    let timeout = client_timeout();
    session.spawn(
        "客户端",
        &["--port", &port, "--message", message, "--timeout", &timeout],
    )
}

fn command(session: &Session, server: &TcpFakeServer) -> String {
    command_with(session, server, HELLO)
}

fn command_with(session: &Session, server: &TcpFakeServer, message: &str) -> String {
    format!(
        "{} --port {} --message {} --timeout {}",
        session.name(),
        server.addr().port(),
        shell_quote(message),
        client_timeout()
    )
}

fn reproduce(session: &Session) -> String {
    reproduce_with(session, HELLO)
}

fn reproduce_with(session: &Session, message: &str) -> String {
    format!(
        "终端 1: cargo run -q -p course -- nc -l 127.0.0.1 8998      (你来扮演服务器:看客户端发来什么,再输入一行回复)\n\
         终端 2: cargo run -p {} -- --message {}\n\
         也可以用第 4 课的参考答案当服务器:cargo run -p solution-04",
        session.name(),
        shell_quote(message)
    )
}

/// 等客户端连上来,读它发来的一行,检查它恰好是 `--message` 加上换行。
fn accept_the_message(
    session: &Session,
    server: &TcpFakeServer,
    client: &mut Program,
) -> Result<TcpClient, Failure> {
    accept_message(session, server, client, HELLO)
}

/// 同 [`accept_the_message`],消息是 `message`。
fn accept_message(
    session: &Session,
    server: &TcpFakeServer,
    client: &mut Program,
    message: &str,
) -> Result<TcpClient, Failure> {
    accept_message_or_twin(session, server, None, client, message)
}

/// 同 [`accept_message`];`twin` 占着服务器在另一类地址上的同一个端口
/// (见 [`TcpFakeServer::bind_ipv6_with_ipv4_twin`]):有人连到那里,说明客户端没有用 --host。
fn accept_message_or_twin(
    session: &Session,
    server: &TcpFakeServer,
    twin: Option<&TcpFakeServer>,
    client: &mut Program,
    message: &str,
) -> Result<TcpClient, Failure> {
    let failure = |headline: &str| {
        Failure::new(headline)
            .ran(command_with(session, server, message))
            .expected(format!(
                "客户端连上评分器的服务器 {},发来一行 {}",
                server.addr(),
                show_bytes(format!("{message}\n").as_bytes())
            ))
            .reproduce(reproduce_with(session, message))
    };
    let accepted = match server.accept_or_stray(twin, deadline(REPLY), || client.exited().is_none())
    {
        Ok(accepted) => accepted,
        Err(from) => {
            let twin = twin.expect("只有看着孪生端口时,才会有人连错地方");
            return Err(server.strayed(twin, from, failure(IGNORES_HOST)));
        }
    };
    let Some(connection) = accepted else {
        return Err(match client.exited() {
            Some(status) => failure("客户端还没连上服务器就退出了")
                .actual(format!(
                    "没有收到任何连接;客户端{}",
                    describe_exit(Some(status))
                ))
                .hint(diagnose(Role::Client, &client.output().stderr())),
            None => failure("客户端没有连上服务器")
                .actual(format!(
                    "{} 秒内没有收到任何连接;客户端还在运行",
                    scaled(REPLY).as_secs()
                ))
                .hint("用 TcpStream::connect_timeout 连接 --host 和 --port 组成的地址。"),
        });
    };
    let received = connection.read_line(deadline(REPLY), || client.exited().is_none());
    let want = format!("{message}\n");
    if received.bytes == want.as_bytes() {
        // 一个不多:一行之后,再没有别的字节(比如同一行发了两遍)。
        let more = connection.read_until(deadline(NOTHING_MORE), || true, |b| !b.is_empty());
        if more.bytes.is_empty() {
            return Ok(connection);
        }
        return Err(failure("客户端发来的不止一行")
            .actual(format!(
                "收到 {},紧接着又收到 {}",
                show_bytes(&received.bytes),
                show_bytes(&more.bytes)
            ))
            .hint("只发一行:--message 的文字加一个 \\n,用一次 write_all 发出。"));
    }
    let got = show_bytes(&received.bytes);
    Err(match (&received.ending, received.bytes.is_empty()) {
        (_, true) => failure("客户端连上了,却什么也没发")
            .actual(format!(
                "连接上没有收到任何字节({})",
                ending_text(&received.ending)
            ))
            .hint(diagnose(Role::Client, &client.output().stderr())),
        (ReadEnding::Found, false) => failure("客户端发来的一行不对")
            .actual(format!("收到 {got}"))
            .hint("发送的应该是 --message 的文字加一个 \\n,不多不少。"),
        (_, false) => failure("客户端发来的消息没有以换行结束")
            .actual(format!("收到 {got},{}", ending_text(&received.ending)))
            .hint(
                "一条消息以 \\n 结束,服务器靠它知道消息到哪里为止:发送 format!(\"{message}\\n\")。\
                 用 write_all,它会把所有字节都写出去。",
            ),
    })
}

fn ending_text(ending: &ReadEnding) -> String {
    match ending {
        ReadEnding::Found => "之后没有更多数据".to_owned(),
        ReadEnding::Closed => "然后客户端关闭了连接".to_owned(),
        ReadEnding::Error(err) => format!("然后{err}"),
        ReadEnding::GaveUp => format!("等了 {} 秒也没有更多数据", scaled(REPLY).as_secs()),
    }
}

/// 评分器这一端在客户端退出之前做了什么。
#[derive(Clone, Copy, PartialEq, Eq)]
enum ServerSide {
    /// 发完一整行回复,连接保持打开:正确的客户端读到换行就停。
    SentLineKeptOpen,
    /// 发完回复就关闭了连接。
    SentAndClosed,
}

/// 等客户端退出,检查它以 0 退出,并且在 stdout 上恰好打印了 `reply`(去掉了行尾的换行)。
fn expect_printed(
    session: &Session,
    server: &TcpFakeServer,
    client: &mut Program,
    what_happened: &str,
    reply: &str,
    side: ServerSide,
) -> Result<(), Failure> {
    let status = client.wait_exit(Instant::now() + after_reply());
    let stdout = client.output().stdout();
    let found = find_printed(&stdout, reply);
    if status.is_some_and(|s| s.success()) && found == Printed::Exactly {
        return Ok(());
    }
    let stderr = client.output().stderr();
    let failure = Failure::new("客户端没有打印完整的回复并正常退出")
        .ran(command(session, server))
        .sent_note(what_happened)
        .expected(format!(
            "stdout 里恰好出现回复的文字「{reply}」(前面可以有「服务器回复: 」这样的说明,\
             后面紧跟换行,一个字节也不多),然后以退出码 0 退出"
        ))
        .reproduce(reproduce(session));
    let waits_for_close = "客户端多半在等连接关闭(read_to_end / read_to_string 要读到 EOF 才返回),\
         而服务器发完一行以后并没有关闭连接。回复以换行结束:用 read_until(b'\\n', …) 读到换行就停。";
    Err(match status {
        None if side == ServerSide::SentLineKeptOpen => failure
            .headline("客户端收到了完整的回复行,却还在等连接关闭")
            .actual(format!(
                "回复发出 {} 秒后,客户端还在运行",
                after_reply().as_secs()
            ))
            .hint(waits_for_close)
            .read("读到哪里为止"),
        None => failure
            .actual(format!("{} 秒后客户端还在运行", after_reply().as_secs()))
            .hint("收到回复以后打印它,然后让 run 返回 Ok(())。"),
        // 客户端收到了完整的一行,却等到自己的读超时才退出:它还在等别的(多半是连接关闭)。
        Some(status)
            if !status.success()
                && side == ServerSide::SentLineKeptOpen
                && (cause(&stderr) == Some(Cause::TimedOut)
                    || mentions_timeout(&stderr, scaled(CLIENT_TIMEOUT).as_secs())) =>
        {
            failure
                .headline("客户端收到了完整的回复行,却还在等连接关闭")
                .actual(format!(
                    "客户端等到自己的读超时(--timeout {})才退出:{}",
                    client_timeout(),
                    describe_exit(Some(status))
                ))
                .hint(waits_for_close)
                .read("读到哪里为止")
        }
        Some(status) if !status.success() && side == ServerSide::SentLineKeptOpen => failure
            .actual(format!(
                "{};评分器的服务器发出了完整的一行回复,并没有关闭连接",
                describe_exit(Some(status))
            ))
            .hint(format!(
                "客户端报错退出了,可服务器既回复了,也没有关闭连接(客户端在 stderr 上怎么说,见上面)。\
                 可能的原因:\n\
                 - 发完消息以后调用了 shutdown(Shutdown::Both) 或 Shutdown::Read,自己关掉了读的方向,\
                 于是一读就是 EOF。发完最多只能关闭写的方向(Shutdown::Write),或者干脆不关;\n\
                 - 读回复时出了别的错:{}",
                diagnose(Role::Client, &stderr)
            )),
        Some(status) if !status.success() => failure
            .actual(format!(
                "{};评分器的服务器发完回复(没有换行)就关闭了连接",
                describe_exit(Some(status))
            ))
            .hint(format!(
                "服务器不发换行就关闭连接时,读到 EOF 之前已经读到的内容就是完整的回复:\
                 照样打印,以退出码 0 退出。read_until 读到 EOF 也会返回,只是结尾没有 \\n;\
                 只有一个字节也没读到(Ok(0))才是「没有回复」。\n{}",
                diagnose(Role::Client, &stderr)
            ))
            .read("读到哪里为止"),
        Some(_) => match found {
            Printed::WithExtra(extra) => extra_after_reply(failure, &extra),
            Printed::Trimmed => trimmed_reply(failure),
            Printed::Partly(_) => {
                let limit = if reply.len() >= 4096 {
                    "\n也可能是读的上限太小:回复最多有 64 KiB,take 的上限要用 MAX_REPLY(64 KiB)。"
                } else {
                    ""
                };
                failure
                    .headline("客户端只打印了回复的一部分")
                    .actual("客户端以退出码 0 退出,但 stdout 里只有回复的开头(见下面的 stdout)")
                    .hint(format!(
                        "TCP 是字节流:回复可能分好几次到达,一次 read 只拿到其中一段。\
                         要一直读到换行(或者连接关闭)为止:BufReader::new(&stream).read_until(b'\\n', &mut buf)。{limit}"
                    ))
                    .read("TCP 是字节流")
            }
            _ => failure
                .actual("客户端以退出码 0 退出,但 stdout 里没有回复的文字(见下面的 stdout)")
                .hint(
                    "把 read_reply 返回的字节用 String::from_utf8_lossy 变成文字打印出来\
                     (run 里已经写好了这一行:返回的应该是回复本身)。",
                ),
        },
    })
}

/// 先用「你好,世界」,再用输入目录里的每一种一行消息,每一种一个客户端,一起检查。
fn sends_the_message_as_a_line(session: &mut Session) -> Result<(), Failure> {
    let server = TcpFakeServer::bind();
    let mut client = start_client(session, &server)?;
    accept_the_message(session, &server, &mut client)?;
    let session = &*session;
    let start = |input: Input| {
        let server = TcpFakeServer::bind();
        let client = start_client_with(session, &server, &input.lossy())?;
        Ok((input, server, client))
    };
    let inputs = inputs::messages(&[Kind::Text, Kind::Space, Kind::Control], true);
    each_at_once(inputs, start, |(input, server, mut client)| {
        accept_message(session, &server, &mut client, &input.lossy())
            .map(drop)
            .map_err(|f| f.sent_note(input.note()).about(&client))
    })
}

/// 先用「服务器回信:收到了」,再用输入目录里的每一种回复,每一种一个客户端,一起检查。
fn prints_the_reply_line(session: &mut Session) -> Result<(), Failure> {
    let mut replies = vec![("服务器回信:收到了".to_owned(), None)];
    replies.extend(
        inputs::lines(&[Kind::Text, Kind::Space, Kind::Control])
            .into_iter()
            .map(|input| (input.lossy(), Some(input.note()))),
    );
    let session = &*session;
    let start = |(reply, note)| {
        let server = TcpFakeServer::bind();
        let client = start_client(session, &server)?;
        Ok((reply, note, server, client))
    };
    each_at_once(replies, start, |(reply, note, server, mut client)| {
        let connection =
            accept_the_message(session, &server, &mut client).map_err(|f| f.about(&client))?;
        // 发完这一行,连接先不关:正确的客户端读到换行就该停下。
        connection
            .send(format!("{reply}\n").as_bytes())
            .map_err(|err| {
                Failure::new("客户端在收到回复之前就断开了").actual(describe_io_error(&err))
            })?;
        let what = format!(
            "评分器的服务器回复了一行 {},之后连接保持打开",
            show_bytes(format!("{reply}\n").as_bytes())
        );
        expect_printed(
            session,
            &server,
            &mut client,
            &what,
            &reply,
            ServerSide::SentLineKeptOpen,
        )
        .map_err(|f| {
            let f = f.about(&client);
            match &note {
                Some(note) => f.sent_note(note),
                None => f,
            }
        })
    })
}

fn prints_a_reply_that_arrives_in_pieces(session: &mut Session) -> Result<(), Failure> {
    let server = TcpFakeServer::bind();
    let mut client = start_client(session, &server)?;
    let connection = accept_the_message(session, &server, &mut client)?;
    let reply = "服务器回信:分三次到达";
    let line = format!("{reply}\n");
    let bytes = line.as_bytes();
    // 故障注入:在字符中间切两刀(「器」和「次」都被切开),每段之间停顿一下。
    let pieces = [&bytes[..8], &bytes[8..24], &bytes[24..]];
    for (i, piece) in pieces.iter().enumerate() {
        if i > 0 {
            connection.pause_and_listen(scaled(Duration::from_millis(200)));
        }
        if connection.send(piece).is_err() {
            break; // 客户端已经断开了(比如只读了一次就退出):下面会解释。
        }
    }
    expect_printed(
        session,
        &server,
        &mut client,
        "评分器的服务器把一行回复分三次写出,每次之间停顿 0.2 秒,之后连接保持打开",
        reply,
        ServerSide::SentLineKeptOpen,
    )?;

    // 长度的上限:恰好 64 KiB 的一行回复(要分好多个 TCP 段才到得齐),也要一个字节不少地打印。
    let server = TcpFakeServer::bind();
    let mut client = start_client(session, &server)?;
    let connection = accept_the_message(session, &server, &mut client)?;
    // 连同结尾的换行恰好 64 KiB:读的上限是 64 KiB,这一行刚好全部读得到。
    let longest = String::from_utf8(large_payload(MAX_REPLY - 1)).expect("large_payload 是 ASCII");
    if connection.send(format!("{longest}\n").as_bytes()).is_err() {
        // 客户端已经断开了:下面会解释。
    }
    expect_printed(
        session,
        &server,
        &mut client,
        "评分器的服务器回复了连同换行恰好 65536 字节(64 KiB)的一行,之后连接保持打开",
        &longest,
        ServerSide::SentLineKeptOpen,
    )
}

/// 回复最多读这么多字节(64 KiB),和课本、参考答案一致。
const MAX_REPLY: usize = 64 * 1024;

/// 先用「没有换行的回复」,再用输入目录里的各种文字和控制字符:每一种都不带换行,
/// 发完就关闭连接,每一种一个客户端(打印时保留空白是第 2 项的事)。
fn prints_a_reply_ended_by_close(session: &mut Session) -> Result<(), Failure> {
    let mut replies = vec![("没有换行的回复".to_owned(), None)];
    replies.extend(
        inputs::lines(&[Kind::Text, Kind::Control])
            .into_iter()
            .map(|input| (input.lossy(), Some(input.note()))),
    );
    let session = &*session;
    let start = |(reply, note)| {
        let server = TcpFakeServer::bind();
        let client = start_client(session, &server)?;
        Ok((reply, note, server, client))
    };
    each_at_once(replies, start, |(reply, note, server, mut client)| {
        let connection =
            accept_the_message(session, &server, &mut client).map_err(|f| f.about(&client))?;
        connection.send(reply.as_bytes()).map_err(|err| {
            Failure::new("客户端在收到回复之前就断开了").actual(describe_io_error(&err))
        })?;
        drop(connection);
        let what = format!(
            "评分器的服务器回复 {}(没有 \\n),然后关闭了连接",
            show_bytes(reply.as_bytes())
        );
        expect_printed(
            session,
            &server,
            &mut client,
            &what,
            &reply,
            ServerSide::SentAndClosed,
        )
        .map_err(|f| {
            let f = f.read("读到哪里为止").about(&client);
            match &note {
                Some(note) => f.sent_note(note),
                None => f,
            }
        })
    })
}

fn explains_a_refused_connection(session: &mut Session) -> Result<(), Failure> {
    // 这个端口被评分器占着却不监听:连接它一定被拒绝,也不会有别的程序抢走它。
    let refusing = RefusingPort::bind();
    let port = refusing.addr().port().to_string();
    // 超时给得宽一些:Windows 上,连接本机一个没人监听的端口,要重试两秒左右才报「拒绝」。
    let timeout = scaled(REPLY).as_secs().to_string();
    let args = [
        "--port",
        port.as_str(),
        "--message",
        HELLO,
        "--timeout",
        timeout.as_str(),
    ];
    let run = session.run_to_end("客户端", &args, scaled(REPLY) + EXIT);
    drop(refusing);

    let failure = Failure::new("连接被拒绝时,客户端没有好好地报错退出")
        .ran(format!("{} {}", session.name(), args.join(" ")))
        .expected(format!(
            "stderr 里有一句中文说明:连接 127.0.0.1:{port} 被「拒绝」了,请确认服务器已经启动、\
             地址和端口没有写错;以非 0 退出码退出;不 panic"
        ))
        .actual(run.describe())
        .reproduce(format!(
            "不启动任何服务器,直接运行客户端:\ncargo run -p {}",
            session.name()
        ))
        .read("连接被拒绝");
    run.expect_error_exit(
        &failure,
        ErrorExit {
            hung: "连接被拒绝以后,客户端应该马上报错退出,而不是继续等待或重试。",
            panicked: "程序 panic 了。服务器没启动是再常见不过的情况,不是 bug:不要 unwrap() connect 的结果。\
                       认出 io::ErrorKind::ConnectionRefused,用 bail! 返回一句说明。",
            succeeded: NOT_A_SUCCESS,
            explains: predicate::str::contains("拒绝").and(predicate::str::contains(port.as_str())),
            unexplained: "说明要讲清楚三件事:连的是哪个地址(含端口)、被「拒绝」了、该检查什么(服务器启动了吗?端口对吗?)。\
                          匹配 err.kind() == io::ErrorKind::ConnectionRefused,用 bail! 返回这句话。",
        },
    )?;
    // 被拒绝是立刻就知道的事(Windows 除外:它会先重试两秒左右),不该等到超时才说。
    if cfg!(not(windows)) && run.elapsed > scaled(LATE) {
        return Err(failure
            .headline("连接被拒绝,客户端却过了好一会儿才报错")
            .actual(format!(
                "{:.1} 秒后才退出(用的是 --timeout {timeout})",
                run.elapsed.as_secs_f64()
            ))
            .hint(
                "连接被拒绝时,connect_timeout 马上就返回 ConnectionRefused:马上报错退出,\
                 不要重试,也不要等到超时。",
            ));
    }
    Ok(())
}

fn gives_up_on_a_silent_server(session: &mut Session) -> Result<(), Failure> {
    // 评分器的服务器在监听,连接会被内核接受并排队,但它永远不读、也不回答。
    let silent = TcpFakeServer::bind();
    let port = silent.addr().port().to_string();
    let args = [
        "--port",
        port.as_str(),
        "--message",
        HELLO,
        "--timeout",
        "1",
    ];
    // 期限从评分器收到它的连接时算起:机器忙时,启动程序本身就可能花掉一秒多。
    // 收下连接、一个字也不回,和让它在队列里排着,对客户端来说没有分别。
    let limit = Duration::from_secs(1) + scaled(LATE) * 2;
    let mut accepted = None;
    let run = session.run_to_end_after("客户端", &args, limit, |client| {
        accepted = silent.accept(deadline(limit), || client.exited().is_none());
        accepted.as_ref().map(|_| Instant::now())
    });
    drop(accepted);
    drop(silent);

    let failure = Failure::new("服务器不回答时,客户端没有好好地超时退出")
        .ran(format!("{} {}", session.name(), args.join(" ")))
        .expected(format!(
            "1 秒后(不早于 1 秒,最晚 {:.1} 秒),stderr 里有一句说明超时的话\
             (写出「超时」或者「秒」,或者写出等了多久,比如「1s」),以非 0 退出码退出;不 panic。\n\
             (评分器的服务器接受了连接,但永远不回答)",
            (Duration::from_secs(1) + scaled(LATE)).as_secs_f64()
        ))
        .actual(run.describe())
        .reproduce(format!(
            "终端 1: cargo run -q -p course -- nc -l 127.0.0.1 8998      (什么也不输入)\n终端 2: cargo run -p {} -- --timeout 1",
            session.name()
        ))
        .read("服务器不回答");
    run.expect_error_exit(
        &failure,
        ErrorExit {
            hung: "read 默认会永远等下去。连接以后调用 stream.set_read_timeout(Some(超时)),用 --timeout 的秒数。",
            panicked: "超时是正常的运行时情况,不是 bug:不要 unwrap() 读的结果。读超时在 Unix 上是 \
                       ErrorKind::WouldBlock,在 Windows 上是 ErrorKind::TimedOut,用 bail! 把它变成一句说明。",
            succeeded: NOT_A_SUCCESS,
            explains: predicate::function(|stderr: &str| mentions_timeout(stderr, 1)),
            unexplained: "把读超时变成一句给人看的中文说明,比如「等了 1 秒,服务器还没有回复」。\
                          只加一个 context 的话,stderr 里只有系统的英文错误。",
        },
    )?;
    run.expect_on_time(failure, Duration::from_secs(1))
}

fn prints_a_crlf_reply_without_the_cr(session: &mut Session) -> Result<(), Failure> {
    let server = TcpFakeServer::bind();
    let mut client = start_client(session, &server)?;
    let connection = accept_the_message(session, &server, &mut client)?;
    let reply = "服务器回信:这一行以 \\r\\n 结尾";
    connection
        .send(format!("{reply}\r\n").as_bytes())
        .map_err(|err| {
            Failure::new("客户端在收到回复之前就断开了").actual(describe_io_error(&err))
        })?;
    expect_printed(
        session,
        &server,
        &mut client,
        "评分器的服务器回复了一行「服务器回信:这一行以 \\r\\n 结尾\\r\\n」(Windows 和 telnet 的写法),\
         之后连接保持打开",
        reply,
        ServerSide::SentLineKeptOpen,
    )
    .map_err(|f| f.read("读到哪里为止"))
}

fn gives_up_on_an_unanswered_connect(session: &mut Session) -> Result<(), Failure> {
    let Some(unanswered) = Unanswered::bind() else {
        return Err(Failure::skip(
            "这个系统不会让连接请求石沉大海(接受队列满了就直接拒绝),做不出「连接一直没有应答」的情况",
        ));
    };
    let port = unanswered.addr().port().to_string();
    let args = [
        "--port",
        port.as_str(),
        "--message",
        HELLO,
        "--timeout",
        "1",
    ];
    let run = session.run_to_end("客户端", &args, Duration::from_secs(1) + scaled(LATE) * 2);
    drop(unanswered);

    let failure = Failure::new("连接一直没有应答时,客户端没有好好地超时退出")
        .ran(format!("{} {}", session.name(), args.join(" ")))
        .expected(format!(
            "1 秒后(不早于 1 秒,最晚 {:.1} 秒),stderr 里有一句说明连不上的话(写出「超时」或者「秒」,\
             或者写出等了多久,比如「1s」),以非 0 退出码退出;不 panic。\n\
             (评分器的地址 127.0.0.1:{port} 对连接请求既不接通,也不拒绝,\
             就像一台被防火墙挡住的机器)",
            (Duration::from_secs(1) + scaled(LATE)).as_secs_f64()
        ))
        .actual(run.describe())
        .reproduce(
            "本机上很难手动造出「不应答」的地址;可以连一个不存在的局域网地址试试\
             (比如 cargo run -p lesson-05 -- --host 10.255.255.1 --timeout 1),\
             它的连接请求不会有任何回音。",
        )
        .read("第 1 步：带超时地连接");
    run.expect_error_exit(
        &failure,
        ErrorExit {
            hung: "TcpStream::connect 没有期限:连接请求石沉大海时,它要等一两分钟才放弃。\
                   用 TcpStream::connect_timeout(&server, timeout),timeout 用 --timeout 的秒数。",
            panicked: "连不上是正常的运行时情况,不是 bug:不要 unwrap() connect 的结果。\
                       connect_timeout 超时返回 ErrorKind::TimedOut,用 bail! 把它变成一句说明。",
            succeeded: NOT_A_SUCCESS,
            explains: predicate::function(|stderr: &str| mentions_timeout(stderr, 1)),
            unexplained: "把连接超时变成一句给人看的中文说明,比如「1 秒内没能连上 127.0.0.1:8998」:\
                          认出 ErrorKind::TimedOut,用 bail! 返回。",
        },
    )?;
    run.expect_on_time(failure, Duration::from_secs(1))
}

fn works_on_ipv6(session: &mut Session) -> Result<(), Failure> {
    if !inputs::has_ipv6_loopback() {
        return Err(Failure::skip(inputs::NO_IPV6));
    }
    let (server, twin) = TcpFakeServer::bind_ipv6_with_ipv4_twin();
    let port = server.addr().port().to_string();
    let timeout = client_timeout();
    let args = [
        "--host",
        "::1",
        "--port",
        &port,
        "--message",
        HELLO,
        "--timeout",
        &timeout,
    ];
    let mut client = session.spawn("客户端", &args)?;
    let ran = format!("{} {}", session.name(), args.join(" "));
    let reproduce_v6 = format!(
        "终端 1: cargo run -p solution-04 -- --host ::1      (参考答案的服务器,在 [::1]:8998)\n\
         终端 2: cargo run -p {} -- --host ::1",
        session.name()
    );
    let connection = accept_message_or_twin(session, &server, Some(&twin), &mut client, HELLO)
        .map_err(|f| {
            let f = f.ran(&ran).reproduce(&reproduce_v6);
            if f.headline == IGNORES_HOST {
                return f;
            }
            f.hint("用 --host 和 --port 组成的地址连接:--host 也可以是 IPv6 地址 ::1。")
        })?;
    let reply = "IPv6 上的回信";
    connection
        .send(format!("{reply}\n").as_bytes())
        .map_err(|err| {
            Failure::new("客户端在收到回复之前就断开了").actual(describe_io_error(&err))
        })?;
    expect_printed(
        session,
        &server,
        &mut client,
        "评分器的服务器(在 [::1] 上)回复了一行「IPv6 上的回信\\n」,之后连接保持打开",
        reply,
        ServerSide::SentLineKeptOpen,
    )
    .map_err(|f| f.ran(ran).reproduce(reproduce_v6))
}

fn explains_a_server_that_closes_without_replying(session: &mut Session) -> Result<(), Failure> {
    let server = TcpFakeServer::bind();
    let mut client = start_client(session, &server)?;
    let connection = accept_the_message(session, &server, &mut client)?;
    // 收下这一行,一个字也不回,就关闭连接。
    drop(connection);
    let status = client.wait_exit(deadline(EXIT));
    let stderr = client.output().stderr();
    let failure = Failure::new("服务器不回复就关闭了连接,客户端却没有好好地报错退出")
        .ran(command(session, &server))
        .sent_note("评分器的服务器收下客户端的一行,一个字也没回,就关闭了连接")
        .expected(
            "stderr 里有一句说明,提到服务器「关闭」了连接(或者「断开」了、「没有回复」),\
             以非 0 退出码退出;不 panic",
        )
        .reproduce(
            "终端 1: cargo run -q -p course -- nc -l 127.0.0.1 8998      (客户端发来一行以后,按 Ctrl+C 关掉 nc)\n\
             终端 2: cargo run -p lesson-05",
        )
        .read("读到哪里为止");
    let said_closed = |text: &str| {
        let lower = text.to_lowercase();
        ["关闭", "断开", "没有回复", "没回复", "closed", "eof"]
            .iter()
            .any(|word| lower.contains(word))
    };
    let problem = match status {
        None => Some((
            format!("{} 秒后还在运行", scaled(EXIT).as_secs()),
            "服务器关闭了连接,read_until 就返回 Ok(0):一个字节也没读到,这就是「没有回复」。\
             认出 Ok(0),用 bail! 说明,不要再等。",
        )),
        Some(status) if status.code() == Some(101) || stderr.contains("panicked") => Some((
            describe_exit(Some(status)),
            "程序 panic 了。服务器不回复就断开是正常的运行时情况:不要 unwrap,用 bail! 说明。",
        )),
        Some(status) if status.success() => Some((
            describe_exit(Some(status)),
            "read_until 返回 Ok(0),说明一个字节也没读到:这不是一个空的回复,而是服务器没有回复就关闭了连接,\
             要用 bail! 报错(非 0 退出码)。只有读到了内容(哪怕没有换行),才算收到了回复。",
        )),
        Some(status) if !said_closed(&stderr) => Some((
            describe_exit(Some(status)),
            "说明要讲清楚发生了什么:服务器没有回复就关闭了连接,比如「127.0.0.1:8998 没有回复就关闭了连接」。",
        )),
        Some(_) => None,
    };
    match problem {
        None => Ok(()),
        Some((actual, hint)) => Err(failure.actual(actual).hint(hint)),
    }
}
