//! 第 2 课的评分器:带超时的 UDP 客户端。
//!
//! 评分器自己扮演服务器(一个绑定在 127.0.0.1 随机端口上的 UDP 套接字),
//! 用 `--port` 把这个端口告诉客户端。规格(与 book/src/02-udp-client.md 一致):
//! - 把 `--message` 的 UTF-8 字节作为「一个」数据报发给 `--host`:`--port`;
//! - 等回复,最多 `--timeout` 秒;收到后在 stdout 打印回复的文字,以退出码 0 退出;
//! - 等不到回复时,在 stderr 用中文说明,以非 0 退出码退出,不 panic。

use std::time::{Duration, Instant};

use predicates::prelude::*;

use crate::client::{extra_after_reply, trimmed_reply};
use crate::diagnose::{Role, diagnose};
use crate::failure::Failure;
use crate::grader::{
    EXIT, ErrorExit, Lesson, NOT_A_SUCCESS, NOTHING_MORE, REPLY, Session, Step, deadline,
    describe_exit, each_at_once, scaled,
};
use crate::inputs::{self, Input, Kind};
use crate::lesson01::large_payload;
use crate::program::Program;
use crate::rules::Rule;
use crate::text::{Printed, find_printed, mentions_timeout, shell_quote, show_bytes};
use crate::udp::{Datagram, UdpPeer};

pub const LESSON: Lesson = Lesson {
    number: "02",
    title: "UDP 客户端",
    chapter: "book/src/02-udp-client.md",
    rules: RULES,
    server_keeps_running: false,
    steps: &[
        Step {
            name: "把 --message 作为一个数据报发给服务器",
            points: 2,
            check: sends_the_message_as_one_datagram,
        },
        Step {
            name: "打印服务器的回复，并以退出码 0 退出",
            points: 2,
            check: prints_the_reply_and_exits,
        },
        Step {
            name: "5000 字节的回复也完整地打印（不截断）",
            points: 2,
            check: prints_a_large_reply_whole,
        },
        Step {
            name: "服务器不回复时，超时后用中文报错并以非 0 退出码退出",
            points: 2,
            check: gives_up_after_the_timeout,
        },
        Step {
            name: "坏的 UTF-8 回复不会让客户端 panic",
            points: 1,
            check: survives_an_invalid_utf8_reply,
        },
        Step {
            name: "用 --host ::1：服务器在 IPv6 的回环地址上，也一样收发",
            points: 1,
            check: works_on_ipv6,
        },
    ],
};

/// 规则清单:章节里写明的每一条要求,由哪几项检查,又有哪些故意写错的程序违反它
/// (见 [`crate::rules`];`course dev check` 核对它,课本「评分器检查什么」一节由它生成)。
pub const RULES: &[Rule] = &[
    Rule {
        id: "send-one-datagram",
        rule: "把 --message 的 UTF-8 字节作为一个数据报发出：不加换行，只发一次",
        says: "客户端把 `--message` 的 UTF-8 字节作为**一个**数据报发给 `--host` 和 `--port` 组成的地址",
        checks: &[1],
        broken_by: &[
            "fixture-udp-client-sends-newline",
            "fixture-udp-client-binds-server-port",
        ],
    },
    Rule {
        id: "print-exact",
        rule: "恰好打印回复的全部文字（后面一个字节也不多），以退出码 0 退出",
        says: "把回复的**全部**文字打印到 stdout，而且**恰好**是回复本身",
        checks: &[2, 3, 5],
        broken_by: &[
            "fixture-udp-client-prints-whole-buffer",
            "fixture-udp-client-small-buffer",
        ],
    },
    Rule {
        id: "timeout",
        rule: "等不到回复时：stderr 里一句说明超时的话，非 0 退出码，不 panic",
        says: "等不到回复时，在 stderr 打印一句中文说明",
        checks: &[4],
        broken_by: &["fixture-udp-client-no-timeout"],
    },
    Rule {
        id: "timeout-on-time",
        rule: "用 --timeout 1 时，在 1 秒到 2.5 秒之间放弃",
        says: "放弃的时机也要对：用 `--timeout 1` 运行时，要在 1 秒之后、2.5 秒之前退出。",
        checks: &[4],
        broken_by: &["fixture-udp-client-fixed-timeout"],
    },
    Rule {
        id: "invalid-utf8",
        rule: "坏的 UTF-8 回复显示成 �，不 panic",
        says: "坏字节显示成 `�`",
        checks: &[5],
        broken_by: &["fixture-udp-client-unwraps-utf8"],
    },
    Rule {
        id: "ipv6",
        rule: "--host 可以是 IPv6 地址：客户端的套接字要和服务器的地址同一类",
        says: "服务器在 IPv6 地址上时，客户端自己的套接字也要是 IPv6 的",
        checks: &[6],
        broken_by: &["fixture-udp-client-ipv4-only"],
    },
    Rule {
        id: "host",
        rule: "数据报发到 --host 给的地址：--host 是 ::1 时就发到 ::1，不写死 127.0.0.1",
        says: "评分器两种地址都会试",
        checks: &[6],
        broken_by: &["fixture-udp-client-ignores-host"],
    },
];

const HELLO: &str = "你好,世界";

/// 正常交换时给客户端的 `--timeout`:评分器收到消息后立刻回复,正确的客户端永远等不到超时。
///
/// 它要比评分器回复所需的时间长得多:在一台两个核、同时在编译别的东西的机器上,
/// 评分器从收到消息到回复出去,实测最多要将近 2 秒(`.ci/soak` 在重负载下量到的),
/// 给 2 秒,正确的客户端偶尔会先等到自己的超时,错的却是评分器。
///
/// 它又要比评分器自己的期限([`REPLY`]、[`EXIT`],5 秒)短:一个收到回复以后还在等的客户端,
/// 会先因为自己的超时退出,评分器看得清它是怎么结束的,两个期限不会撞在一起。
pub(crate) const CLIENT_TIMEOUT: Duration = Duration::from_secs(4);

/// 回复发出以后,最多等客户端多久退出:它自己的超时,再加上评分器平常的期限([`EXIT`])。
///
/// 正确的客户端收到回复马上退出,用不了这么久;还在等的客户端,会先撞上自己的超时退出,
/// 中间隔着整整一个 [`EXIT`],机器再忙,评分器也看得到它是自己退出的。
pub(crate) fn after_reply() -> Duration {
    scaled(CLIENT_TIMEOUT + EXIT)
}

fn client_timeout() -> String {
    scaled(CLIENT_TIMEOUT).as_secs().max(1).to_string()
}

/// 启动客户端,让它向 `server` 发 `message`。
fn start_client(session: &Session, server: &UdpPeer, message: &str) -> Result<Program, Failure> {
    let port = server.addr().port().to_string();
    let timeout = client_timeout();
    session.spawn(
        "客户端",
        &["--port", &port, "--message", message, "--timeout", &timeout],
    )
}

fn command(session: &Session, server: &UdpPeer, message: &str) -> String {
    format!(
        "{} --port {} --message {} --timeout {}",
        session.name(),
        server.addr().port(),
        shell_quote(message),
        client_timeout()
    )
}

fn reproduce(session: &Session, message: &str) -> String {
    format!(
        "终端 1: cargo run -p solution-01      (参考答案的服务器,端口 7852)\n\
         终端 2: cargo run -p {} -- --message {}",
        session.name(),
        shell_quote(message)
    )
}

/// 等客户端发来的数据报,检查它恰好是 `message` 的字节。
fn receive_message(
    session: &Session,
    server: &UdpPeer,
    client: &mut Program,
    message: &str,
) -> Result<Datagram, Failure> {
    receive_message_or_twin(session, server, None, client, message)
}

/// 数据报发到了 --host 以外的地址(评分器占着的孪生端口)时的标题。
const IGNORES_HOST: &str = "客户端没有用 --host:数据报发到了另一个地址";

/// 和 [`receive_message`] 一样;`twin` 占着服务器在另一类地址上的同一个端口
/// (见 [`UdpPeer::bind_ipv6_with_ipv4_twin`]):数据报落到那里,说明客户端没有用 --host。
fn receive_message_or_twin(
    session: &Session,
    server: &UdpPeer,
    twin: Option<&UdpPeer>,
    client: &mut Program,
    message: &str,
) -> Result<Datagram, Failure> {
    let failure = |headline: &str| {
        Failure::new(headline)
            .ran(command(session, server, message))
            .expected(format!(
                "评分器的服务器 {} 收到一个数据报,内容恰好是 {}",
                server.addr(),
                show_bytes(message.as_bytes())
            ))
            .reproduce(reproduce(session, message))
    };
    let mut strayed = None;
    let got = server.recv_while(deadline(REPLY), || {
        if strayed.is_none() {
            strayed = twin.and_then(UdpPeer::try_recv);
        }
        strayed.is_none() && client.exited().is_none()
    });
    if let (None, Some(strayed), Some(twin)) = (&got, strayed, twin) {
        return Err(failure(IGNORES_HOST)
            .actual(format!(
                "{} 什么也没收到;评分器占着的 {} 却收到了 {}(从 {} 发出)",
                server.addr(),
                twin.addr(),
                show_bytes(&strayed.data),
                strayed.from
            ))
            .hint(
                "服务器的地址要由 --host 和 --port 组成,不要写死 127.0.0.1:\
                 --host 是 ::1 时,数据报要发到 [::1]:端口。用 (host.as_str(), port) 解析出地址,\
                 客户端自己的套接字也要和它同一类(IPv6 就绑定 [::]:0)。",
            ));
    }
    let Some(datagram) = got else {
        let waited = format!("{} 秒内没有收到任何数据报", scaled(REPLY).as_secs());
        return Err(match client.exited() {
            Some(status) => failure("客户端还没发出数据报就退出了")
                .actual(format!(
                    "没有收到任何数据报;客户端{}",
                    describe_exit(Some(status))
                ))
                .hint(diagnose(Role::Client, &client.output().stderr())),
            None => failure("客户端没有发出数据报")
                .actual(format!("{waited};客户端还在运行"))
                .hint("检查 send_to 的目标:它应该是 --host 和 --port 组成的地址。"),
        });
    };
    if datagram.data != message.as_bytes() {
        let hint = if datagram.data.starts_with(message.as_bytes()) {
            "数据报里多了东西(比如换行)。send 收到的 message 已经是消息的字节了:\
             socket.send_to(message, server),一个字节也不多。"
        } else {
            "数据报应该恰好是 --message 参数的 UTF-8 字节:整条消息放在一个数据报里,\
             用 socket.send_to(message, server) 一次发出。"
        };
        return Err(failure("收到的数据报和 --message 不一样")
            .actual(format!("收到 {}", show_bytes(&datagram.data)))
            .hint(hint));
    }
    // 一个不多:消息只发一次,也不拆成几个数据报。
    if let Some(extra) = server.recv(deadline(NOTHING_MORE)) {
        return Err(failure("客户端发了不止一个数据报")
            .actual(format!(
                "先收到 {},紧接着又收到 {}",
                show_bytes(&datagram.data),
                show_bytes(&extra.data)
            ))
            .hint("整条消息作为一个数据报发一次:只调用一次 send_to。"));
    }
    Ok(datagram)
}

/// 等客户端结束,检查它以 0 退出,并且在 stdout 上恰好打印了 `reply` 的文字。
///
/// 「恰好」:回复的文字占到一行的末尾,后面紧跟换行;前面可以有「服务器回复: 」这样的说明。
fn expect_printed_reply(
    session: &Session,
    server: &UdpPeer,
    client: &mut Program,
    message: &str,
    reply: &[u8],
) -> Result<(), Failure> {
    let status = client.wait_exit(Instant::now() + after_reply());
    let printed = String::from_utf8_lossy(reply).into_owned();
    let stdout = client.output().stdout();
    let found = find_printed(&stdout, &printed);
    if status.is_some_and(|s| s.success()) && found == Printed::Exactly {
        return Ok(());
    }
    let failure = Failure::new("客户端没有打印服务器的回复并正常退出")
        .ran(command(session, server, message))
        .sent(reply, "客户端(评分器的服务器回复它)")
        .expected(
            "stdout 里恰好出现回复的全部文字(前面可以有「服务器回复: 」这样的说明,\
             后面紧跟着换行,一个字节也不多),然后以退出码 0 退出",
        )
        .reproduce(reproduce(session, message));
    Err(match (status, found) {
        (None, _) => failure
            .actual(format!(
                "收到回复 {} 秒后,客户端还在运行",
                after_reply().as_secs()
            ))
            .hint("收到回复以后打印它,然后让 run 返回 Ok(())。"),
        (Some(status), _) if !status.success() => failure
            .actual(describe_exit(Some(status)))
            .hint(diagnose(Role::Client, &client.output().stderr())),
        (Some(_), Printed::WithExtra(extra)) => extra_after_reply(failure, &extra),
        (Some(_), Printed::Trimmed) => trimmed_reply(failure),
        (Some(_), Printed::Partly(_)) if reply.len() > 1000 => failure
            .headline("客户端只打印了回复的一部分")
            .actual("客户端以退出码 0 退出,但 stdout 里只有回复的开头(见下面的 stdout)")
            .hint(
                "接收缓冲区太小:比缓冲区大的数据报,放不下的部分会被悄悄丢掉。\
                 按 UDP 最大数据报(65507 字节)准备缓冲区。",
            )
            .read("缓冲区要多大"),
        (Some(_), Printed::Partly(_)) => failure
            .headline("客户端只打印了回复的一部分")
            .actual("客户端以退出码 0 退出,但 stdout 里只有回复的开头(见下面的 stdout)")
            .hint("把收到的 n 个字节全部变成文字打印:String::from_utf8_lossy(&buf[..n])。"),
        (Some(_), _) => failure
            .actual("客户端以退出码 0 退出,但 stdout 里没有回复的文字(见下面的 stdout)")
            .hint("用 String::from_utf8_lossy(&buf[..n]) 把收到的字节转成文字再打印。"),
    })
}

/// 先用「你好,世界」,再用输入目录里的每一种消息(空白、引号、控制字符、emoji、
/// 好几行……),每一种一个客户端,一起检查。
fn sends_the_message_as_one_datagram(session: &mut Session) -> Result<(), Failure> {
    let server = UdpPeer::bind();
    let mut client = start_client(session, &server, HELLO)?;
    receive_message(session, &server, &mut client, HELLO)?;
    let session = &*session;
    let inputs = inputs::messages(
        &[Kind::Text, Kind::Space, Kind::Control, Kind::Newline],
        false,
    );
    let start = |input: Input| {
        let server = UdpPeer::bind();
        let client = start_client(session, &server, &input.lossy())?;
        Ok((input, server, client))
    };
    each_at_once(inputs, start, |(input, server, mut client)| {
        receive_message(session, &server, &mut client, &input.lossy())
            .map(drop)
            .map_err(|f| f.sent_note(input.note()).about(&client))
    })
}

/// 收到消息后回复 `reply`,期望客户端把它打印出来。
fn exchange(session: &mut Session, reply: &[u8]) -> Result<(), Failure> {
    exchange_all(session, vec![(reply.to_vec(), None)])
}

/// 同时进行好几次 [`exchange`]:每个回复一个客户端。`note` 说明回复来自输入目录的哪一项。
fn exchange_all(
    session: &mut Session,
    replies: Vec<(Vec<u8>, Option<String>)>,
) -> Result<(), Failure> {
    let session = &*session;
    let start = |(reply, note)| {
        let server = UdpPeer::bind();
        let client = start_client(session, &server, HELLO)?;
        Ok((reply, note, server, client))
    };
    each_at_once(replies, start, |(reply, note, server, mut client)| {
        let datagram =
            receive_message(session, &server, &mut client, HELLO).map_err(|f| f.about(&client))?;
        // 回复发到数据报的来源地址:客户端的端口是系统随机分配的。
        server.send_to_running(&reply, datagram.from, &mut client);
        expect_printed_reply(session, &server, &mut client, HELLO, &reply).map_err(|f| {
            let f = f.about(&client);
            match &note {
                Some(note) => f.sent_note(note),
                None => f,
            }
        })
    })
}

/// 先用「服务器回信:收到了」,再用输入目录里的每一种回复。
fn prints_the_reply_and_exits(session: &mut Session) -> Result<(), Failure> {
    let mut replies = vec![("服务器回信:收到了".as_bytes().to_vec(), None)];
    replies.extend(
        inputs::pick(&[Kind::Text, Kind::Space, Kind::Control])
            .into_iter()
            .map(|input| (input.bytes.clone(), Some(input.note()))),
    );
    exchange_all(session, replies)
}

fn prints_a_large_reply_whole(session: &mut Session) -> Result<(), Failure> {
    exchange(session, &large_payload(5000))
}

/// 输入目录里的各种坏字节(截断的汉字、多余的后续字节、超长编码……),每一种一个客户端。
fn survives_an_invalid_utf8_reply(session: &mut Session) -> Result<(), Failure> {
    let replies = inputs::pick(&[Kind::BadUtf8])
        .into_iter()
        .map(|input| (input.bytes.clone(), Some(input.note())))
        .collect();
    exchange_all(session, replies)
}

fn gives_up_after_the_timeout(session: &mut Session) -> Result<(), Failure> {
    // 评分器的「服务器」绑定了端口,但从不读、从不回复:数据报进了它的缓冲区就没有下文了。
    let silent = UdpPeer::bind();
    let port = silent.addr().port().to_string();
    let args = ["--port", &port, "--message", HELLO, "--timeout", "1"];
    // 客户端等 1 秒;评分器最多等它 1 秒再加上两倍的「晚一点也算」(LATE):
    // 过了 2.5 秒才放弃的客户端本来就不对,等满 4 秒足够看清它是不是根本不会放弃。
    // 这 4 秒从评分器收到它的数据报时算起:机器忙时,启动程序本身就可能花掉一秒多。
    let limit = Duration::from_secs(1) + crate::grader::LATE * 2;
    let run = session.run_to_end_after("客户端", &args, limit, |client| {
        silent
            .recv_while(deadline(limit), || client.exited().is_none())
            .map(|_| Instant::now())
    });

    let failure = Failure::new("服务器不回复时,客户端没有好好地超时退出")
        .ran(format!("{} {}", session.name(), args.join(" ")))
        .expected(format!(
            "1 秒后(不早于 1 秒,最晚 {:.1} 秒),stderr 里有一句说明超时的话\
             (写出「超时」或者「秒」,或者写出等了多久,比如「1s」),以非 0 退出码退出;不 panic。\n\
             (评分器的服务器 127.0.0.1:{port} 收下数据报,但永远不回复)",
            (Duration::from_secs(1) + scaled(crate::grader::LATE)).as_secs_f64()
        ))
        .actual(run.describe())
        .reproduce(format!(
            "终端 1(一个收下数据报、却从不回复的服务器,和评分器的一样;按回车结束它):\n\
             python3 -c \"import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); \
             s.bind(('127.0.0.1', 7852)); input()\"\n\
             终端 2: cargo run -p {} -- --timeout 1\n\
             (不启动任何服务器也行,但在 Windows 上客户端会立刻收到「没有人在这个端口接收」的错误,\
             而不是等到超时。)",
            session.name()
        ))
        .read("等不到回复怎么办");
    // main 会给任何错误加上「错误:」前缀,所以只看有没有中文是不够的:
    // 说明里要讲清楚是「超时」了、等了多少「秒」,而不只是系统的一句英文错误。
    run.expect_error_exit(
        &failure,
        ErrorExit {
            hung: "recv_from 默认会永远等下去。在接收之前调用 socket.set_read_timeout(Some(超时)),\
                   用 --timeout 的秒数。",
            panicked: "超时是正常的运行时情况,不是 bug:不要 unwrap() recv_from 的结果。\
                       读超时在 Unix 上是 ErrorKind::WouldBlock,在 Windows 上是 ErrorKind::TimedOut,\
                       把它变成一条说明(bail!)交给 main。",
            succeeded: NOT_A_SUCCESS,
            explains: predicate::function(|stderr: &str| mentions_timeout(stderr, 1)),
            unexplained: "把读超时变成一句给人看的中文说明:认出 ErrorKind::WouldBlock(Unix)和 TimedOut(Windows),\
                          用 bail! 返回,比如「等了 1 秒,没有收到回复,请确认服务器正在运行」。\
                          只加一个 context 的话,stderr 里只有系统的英文错误,初学者看不懂发生了什么。",
        },
    )?;
    run.expect_on_time(failure, Duration::from_secs(1))
}

fn works_on_ipv6(session: &mut Session) -> Result<(), Failure> {
    if !inputs::has_ipv6_loopback() {
        return Err(Failure::skip(inputs::NO_IPV6));
    }
    let (server, twin) = UdpPeer::bind_ipv6_with_ipv4_twin();
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
        "终端 1: cargo run -p solution-03 -- --host ::1      (参考答案的服务器,在 [::1]:7852)\n\
         终端 2: cargo run -p {} -- --host ::1",
        session.name()
    );
    let datagram = receive_message_or_twin(session, &server, Some(&twin), &mut client, HELLO)
        .map_err(|f| {
            let f = f.ran(&ran).reproduce(reproduce_v6);
            if f.headline == IGNORES_HOST {
                return f;
            }
            f.hint(
                "--host 可以是 IPv6 地址。客户端自己的套接字要和服务器的地址是同一类:\
                 服务器是 IPv4 就绑定 0.0.0.0:0,是 IPv6 就绑定 [::]:0(server.is_ipv4() 告诉你是哪一类)。\
                 绑定 0.0.0.0:0 的套接字发不到 ::1。",
            )
        })?;
    let reply = "IPv6 上的回信".as_bytes();
    server.send_to_running(reply, datagram.from, &mut client);
    expect_printed_reply(session, &server, &mut client, HELLO, reply).map_err(|f| {
        f.ran(ran).reproduce(format!(
            "终端 1: cargo run -p solution-03 -- --host ::1      (参考答案的服务器,在 [::1]:7852)\n\
             终端 2: cargo run -p {} -- --host ::1",
            session.name()
        ))
    })
}
