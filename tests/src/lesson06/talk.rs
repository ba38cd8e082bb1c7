//! 第 6 课的第 1–4 项:启动、两个人聊天、三个人同时说话、有人突然断开。

use super::text::{cleaned, is_said, needs_cleaning};
use super::*;
use crate::inputs::{self, Input, Kind};

pub(super) fn prints_its_address(session: &mut Session) -> Result<(), Failure> {
    Room::open(session).map(drop)
}

pub(super) fn two_people_talk(session: &mut Session) -> Result<(), Failure> {
    let mut room = Room::open(session)?;
    let mut alice = room.join("alice")?;
    let mut bob = room.join("bob")?;
    room.expect(
        &mut alice,
        "bob 进入聊天室的通知",
        "一行以「* 」开头、带着 bob 和「进入」的通知,比如「* bob 进入了聊天室」",
        |line| notice_about(line, "bob", "进入"),
        JOIN_HINT,
    )?;
    room.expect_log("alice 进来时的一行", &["alice"], Some(1))?;
    room.expect_log("bob 进来时的一行", &["bob"], Some(2))?;

    // alice 说,bob 收到;bob 说,alice 收到;谁都收不到自己的话。
    talk(
        &mut room,
        &mut alice,
        &mut bob,
        "你好,bob!我是 alice".as_bytes(),
        None,
    )?;
    talk(
        &mut room,
        &mut bob,
        &mut alice,
        "你好 alice,我是 bob".as_bytes(),
        None,
    )?;

    // 再说几句别扭的:各种文字、两头的空白、行尾是 \r\n 的一行。它们都不用清理
    // (要清理的那些归第 8 项「坏的输入」),到了别人那里就是原话。
    for input in plain_lines() {
        talk(&mut room, &mut alice, &mut bob, &input.bytes, Some(&input))?;
    }
    // 屏障:alice 说的每一句,bob 都恰好收到一次;多出来的(重复的、空的)在 /list 的回复之前出现。
    let before = room.barrier(&mut bob)?;
    if let Some(extra) = before.iter().find(|line| !line.starts_with("* ")) {
        return Err(room.trouble(
            Failure::new("bob 收到了多余的一行")
                .expected("alice 说的每一句,bob 恰好收到一次,一行不多")
                .actual(format!(
                    "多出来一行「{}」\n{}",
                    show_text(extra),
                    bob.transcript(8)
                ))
                .hint("每一行只广播一次;转发时整行一次写出去,不要另外再写一个换行或空行。")
                .read("消息和命令")
                .reproduce(REPRODUCE),
        ));
    }
    Ok(())
}

/// 第 2 项说的别扭的话:输入目录里不用清理的文字和空白,外加行尾是 `\r\n` 的一行
/// (`Input::bytes` 里带着换行的,原样发出;其余的由 [`talk`] 补上 `\n`)。
fn plain_lines() -> Vec<Input> {
    let mut lines: Vec<Input> = inputs::lines(&[Kind::Text, Kind::Space])
        .into_iter()
        .filter(|input| !needs_cleaning(&input.bytes))
        .collect();
    lines.extend(inputs::crlf_lines());
    lines
}

/// `speaker` 说一句 `bytes`(没有换行就补上 `\n`),`listener` 要恰好收到 `[昵称] 原话`,
/// `speaker` 自己不能收到。`input` 是这句话在输入目录里的来历,失败信息里说明。
fn talk(
    room: &mut Room,
    speaker: &mut ChatPeer,
    listener: &mut ChatPeer,
    bytes: &[u8],
    input: Option<&Input>,
) -> Result<(), Failure> {
    let mut line = bytes.to_vec();
    if !line.ends_with(b"\n") {
        line.push(b'\n');
    }
    let text = String::from_utf8_lossy(bytes.strip_suffix(b"\r\n").unwrap_or(bytes)).into_owned();
    room.send_bytes(speaker, &line)?;
    let expected = said(&speaker.nick, &cleaned(text.as_bytes()));
    let from = format!("服务器(从 {} 的连接发出)", speaker.nick);
    let note = |f: Failure| match input {
        Some(input) => f.sent(&line, &from).sent_note(input.note()),
        None => f.sent(&line, &from),
    };
    // 这时 listener 能收到的只有通知(「* …」)和这一句话:别的一行一到,就不用再等了。
    let (_, got) = room
        .expect(
            listener,
            &format!("{} 说的「{}」", speaker.nick, show_text(&text)),
            &format!("一行「{}」", show_text(&expected)),
            |line| !line.starts_with("* "),
            "一个人说的一句话,要原样(前面加上「[昵称] 」)发给聊天室里的其他每一个人。\
             服务器为每个客户端开一个线程读它发来的行;读到一行,就把它交给其他所有人。",
        )
        .map_err(note)?;
    if !is_said(&got, &speaker.nick, text.as_bytes()) {
        let hint = if line.ends_with(b"\r\n") && got.trim_end().ends_with(['\r', '\u{FFFD}']) {
            "这一行的行尾是 \\r\\n(Windows 的 nc、telnet 就这样发)。章节说 \\r\\n 也行:\
             去掉行尾的 \\n 以后,如果还有一个 \\r,也去掉它,它不是话的一部分。"
        } else {
            "别人说的话,收到的人那里是「[说话人的昵称] 原话」:左方括号、昵称、右方括号、\
             一个空格,然后是他说的话,一个字也不改(两头的空白可以去掉)。"
        };
        return Err(note(
            room.trouble(
                Failure::new(format!(
                    "{} 收到的一行和 {} 说的不一样",
                    listener.nick, speaker.nick
                ))
                .expected(format!("一行「{}」", show_text(&expected)))
                .actual(format!(
                    "{} 收到「{}」\n{}",
                    listener.nick,
                    show_text(&got),
                    listener.transcript(6)
                ))
                .hint(hint)
                .read("服务器发出的行")
                .reproduce(REPRODUCE),
            ),
        ));
    }
    no_echo(room, speaker)
}

/// 确认 `speaker` 没有收到自己说的话。
fn no_echo(room: &mut Room, speaker: &mut ChatPeer) -> Result<(), Failure> {
    let before = room.barrier(speaker)?;
    let own = format!("[{}] ", speaker.nick);
    match before.iter().find(|line| line.starts_with(&own)) {
        None => Ok(()),
        Some(echo) => Err(Failure::new(format!(
            "服务器把 {} 自己说的话又发回给了他",
            speaker.nick
        ))
        .expected(format!("{} 说的话只发给其他人", speaker.nick))
        .actual(format!(
            "{} 收到了「{}」\n{}",
            speaker.nick,
            show_text(echo),
            speaker.transcript(8)
        ))
        .hint(
            "广播时要跳过说话的人自己:比较每个连接的编号(或地址)和说话人的,相同就跳过。\
                   他在自己的终端上打字时已经看到这句话了,再收到一遍只会重复。",
        )
        .reproduce(REPRODUCE)),
    }
}

/// 每个人在第三项检查里说几句话。
const BURST: usize = 30;

/// 同一个人的话到了别人那里顺序乱了:最常见的原因。
const ORDER_HINT: &str = "同一个人说的话,每个收信人都要按他说的顺序收到。每个收信人只能有一个「写的人」:\
     一个写线程,从一个先进先出的信箱里按顺序取出一行行话,按顺序写。如果每广播一行就开一个新线程去写,\
     或者几个线程同时写同一个连接,谁先写到是碰运气的,顺序就乱了。";

/// 几句完整的话首尾相接、中间少了换行:最常见的原因。
const GLUED_HINT: &str = "每一句单独看都是完整的,只是换行没有紧跟在它后面:多半是几个线程同时写同一个连接。\
     writeln! 直接写 TcpStream 时,正文和换行是两次 write,另一个线程的正文可能插在中间。\
     每个收信人只能有一个「写的人」:一个写线程,从一个先进先出的信箱里按顺序取出一行行话;\
     把正文和换行拼成一整行,一次 write_all 写出去。";

/// `got` 是不是几句完整的话首尾相接(中间少了换行)?是的话,按原样返回那几句。
///
/// 每一句是「[昵称] 正文」,昵称是 `nicks` 之一,`is_sentence(昵称, 正文)` 认得这句正文。
fn glued(
    got: &str,
    nicks: &[String],
    is_sentence: impl Fn(&str, &str) -> bool,
) -> Option<Vec<String>> {
    let starts_at = |at: usize| {
        nicks
            .iter()
            .any(|nick| got[at..].starts_with(&format!("[{nick}] ")))
    };
    let starts: Vec<usize> = got
        .char_indices()
        .map(|(at, _)| at)
        .filter(|&at| starts_at(at))
        .collect();
    if starts.first() != Some(&0) || starts.len() < 2 {
        return None;
    }
    let ends = starts.iter().skip(1).copied().chain([got.len()]);
    let pieces: Vec<String> = starts
        .iter()
        .zip(ends)
        .map(|(&from, to)| got[from..to].to_owned())
        .collect();
    let whole = |piece: &String| {
        nicks.iter().any(|nick| {
            piece
                .strip_prefix(&format!("[{nick}] "))
                .is_some_and(|text| is_sentence(nick, text))
        })
    };
    pieces.iter().all(whole).then_some(pieces)
}

pub(super) fn three_people_talk_at_once(session: &mut Session) -> Result<(), Failure> {
    let mut room = Room::open(session)?;
    let mut peers = Vec::new();
    for nick in ["alice", "bob", "carol"] {
        peers.push(room.join(nick)?);
    }
    // 先让每个人收完进门时的通知,后面收到的就只有聊天了。
    for peer in &mut peers {
        room.barrier(peer)?;
    }

    let line = |nick: &str, i: usize| format!("{nick} 的第 {i} 句");
    let sent = std::thread::scope(|scope| {
        let talkers: Vec<_> = peers
            .iter()
            .map(|peer| {
                scope.spawn(move || -> std::io::Result<()> {
                    let until = deadline(REPLY);
                    (0..BURST).try_for_each(|i| peer.send_line(&line(&peer.nick, i), until))
                })
            })
            .collect();
        talkers
            .into_iter()
            .map(|talker| {
                talker
                    .join()
                    .unwrap_or_else(|_| Err(std::io::Error::other("发送线程 panic 了")))
            })
            .collect::<Vec<_>>()
    });
    for (peer, result) in peers.iter().zip(sent) {
        if let Err(err) = result {
            return Err(room.trouble(
                Failure::new(format!("{} 说话时发不出去", peer.nick))
                    .actual(crate::tcp::describe_io_error(&err))
                    .hint("三个人同时说话时,服务器不再读其中一个人发来的东西了。每个客户端要有自己的线程。"),
            ));
        }
    }

    let nicks: Vec<String> = peers.iter().map(|p| p.nick.clone()).collect();
    for peer in &mut peers {
        let others: Vec<&String> = nicks.iter().filter(|n| **n != peer.nick).collect();
        // 每个说话人下一句应该是第几句。
        let mut next = vec![0usize; others.len()];
        let me = peer.nick.clone();
        let expected = format!(
            "{} 和 {} 各自的 {BURST} 句话(「{}」),每个人的话按他说的顺序",
            others[0],
            others[1],
            line(others[0], 0)
        );
        while next.iter().any(|&n| n < BURST) {
            let (_, got) = room.expect(
                peer,
                "另外两个人的全部的话",
                &expected,
                |l| l.starts_with('['),
                "三个人同时说话时,服务器的每个客户端线程都在同时广播。确认:每个客户端一个线程;\
                 在线的人放在 Arc<Mutex<…>> 里,所有线程共享同一份;广播时拿着锁把这一行交给每个人。",
            )?;
            let from = others
                .iter()
                .position(|n| got.starts_with(&format!("[{n}] ")));
            let wrong = match from {
                Some(k) if got == said(others[k], &line(others[k], next[k])) => {
                    next[k] += 1;
                    None
                }
                Some(k) => {
                    // 这一行是那个人说的第几句(如果它是完整的一句的话)?
                    let number = (0..BURST).find(|&i| got == said(others[k], &line(others[k], i)));
                    let (headline, what, hint) = match number {
                        Some(i) if i > next[k] => (
                            "三个人同时说话时,同一个人的话到了别人那里顺序乱了",
                            format!(
                                "{me} 先收到了 {} 的第 {i} 句,他的第 {} 句还没到:顺序乱了(或者丢了)",
                                others[k], next[k]
                            ),
                            ORDER_HINT,
                        ),
                        Some(i) => (
                            "三个人同时说话时,有人收到了重复的话",
                            format!("{me} 又收到了一遍 {} 的第 {i} 句:重复了", others[k]),
                            "每一行只放进每个人的信箱一次。",
                        ),
                        None => match glued(&got, &nicks, |nick, text| {
                            text.strip_prefix(&format!("{nick} 的第 "))
                                .and_then(|rest| rest.strip_suffix(" 句"))
                                .and_then(|i| i.parse::<usize>().ok())
                                .is_some_and(|i| i < BURST)
                        }) {
                            Some(pieces) => (
                                "三个人同时说话时,有人收到的两行话粘在了一起",
                                format!(
                                    "{me} 收到的这一行是 {} 句完整的话首尾相接:「{}」,中间少了换行",
                                    pieces.len(),
                                    pieces.join("」「")
                                ),
                                GLUED_HINT,
                            ),
                            None => (
                                "三个人同时说话时,有人收到了半行",
                                format!("{me} 收到的这一行不是 {} 说的任何一句完整的话", others[k]),
                                "客户端线程读到一行才广播一行:别把一次 read 读到的东西当作一行(TCP 是字节流),\
                                 用 BufReader 的 read_until 读到换行为止;发出去的每一行都带上换行。",
                            ),
                        },
                    };
                    Some((
                        headline,
                        format!(
                            "{what}\n收到「{}」,{} 的下一句应该是「{}」",
                            show_text(&got),
                            others[k],
                            line(others[k], next[k])
                        ),
                        hint,
                    ))
                }
                None if got.starts_with(&format!("[{me}] ")) => Some((
                    "三个人同时说话时,有人收到了自己说的话",
                    format!("{me} 收到了自己说的「{}」", show_text(&got)),
                    "广播时跳过说话的人自己。",
                )),
                None => Some((
                    "三个人同时说话时,有人收到的消息不对",
                    format!("{me} 收到了意料之外的一行「{}」", show_text(&got)),
                    "每个人的话要原样(前面加上「[昵称] 」)转给其他每个人。",
                )),
            };
            if let Some((headline, problem, hint)) = wrong {
                return Err(room.trouble(
                    Failure::new(headline)
                        .expected(expected)
                        .actual(format!("{problem}\n{}", peer.transcript(8)))
                        .hint(hint)
                        .reproduce(REPRODUCE),
                ));
            }
        }
    }
    // 屏障:多出来的(回声、重复)都会在 /list 的回复之前出现。
    for peer in &mut peers {
        let before = room.barrier(peer)?;
        if let Some(extra) = before.iter().find(|l| l.starts_with('[')) {
            return Err(room.trouble(
                Failure::new(format!("{} 收到了多余的消息", peer.nick))
                    .expected("恰好收到另外两个人各自的话,一句不多")
                    .actual(format!(
                        "多出来一行「{}」\n{}",
                        show_text(extra),
                        peer.transcript(8)
                    ))
                    .hint("广播时跳过说话的人自己;每一行只广播一次。")
                    .reproduce(REPRODUCE),
            ));
        }
    }
    Ok(())
}

pub(super) fn vanishing_clients_are_removed(session: &mut Session) -> Result<(), Failure> {
    let mut room = Room::open(session)?;
    let mut alice = room.join("alice")?;
    let mut bob = room.join("bob")?;

    // 一个连上来、没报昵称就走的连接:不该有任何通知,服务器也不该出事。
    drop(room.connect("路人")?);

    for (nick, how, reset) in [
        ("carol", "carol 关闭了连接", false),
        ("dave", "dave 的连接被重置了(RST)", true),
    ] {
        let peer = room.join(nick)?;
        room.expect(
            &mut alice,
            &format!("{nick} 进入聊天室的通知"),
            &format!("一行以「* 」开头、带着 {nick} 和「进入」的通知"),
            |line| notice_about(line, nick, "进入"),
            JOIN_HINT,
        )?;
        if reset {
            peer.reset();
        } else {
            drop(peer);
        }
        room.expect(
            &mut alice,
            &format!("{nick} 离开的通知({how},没有说 /quit)"),
            &format!("一行以「* 」开头、带着 {nick} 和「离开」的通知,比如「* {nick} 离开了聊天室」"),
            |line| notice_about(line, nick, "离开"),
            &format!(
                "{how}:他的程序没有说 /quit 就没了。他的线程读到 EOF(read 返回 0)或者一个错误时,\
                 要把他从在线名单里删掉,再告诉其他人。读到错误也是「这个人走了」,不是「服务器出错了」。\
                 {LEAVE_WORDING}"
            ),
        )?;
        // 他进来时有 3 个人,走了以后剩 2 个。
        room.expect_log(&format!("{nick} 离开时的一行"), &[nick], Some(2))?;
    }

    let text = "人都走了吗?";
    room.send(&alice, text)?;
    let expected = said("alice", text);
    room.expect(
        &mut bob,
        &format!("alice 在别人断开以后说的「{text}」"),
        &format!("一行「{expected}」"),
        |line| line == expected,
        "有人断开以后,聊天室要照常工作:断开的人要从名单里删掉,广播时也不能因为写某个人失败就停下。",
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::glued;

    fn nicks() -> Vec<String> {
        ["alice", "bob", "carol"].map(String::from).to_vec()
    }

    fn sentence(nick: &str, text: &str) -> bool {
        text.strip_prefix(&format!("{nick} 的第 "))
            .and_then(|rest| rest.strip_suffix(" 句"))
            .is_some_and(|i| i.parse::<usize>().is_ok())
    }

    #[test]
    fn whole_sentences_without_a_newline_between_are_glued() {
        assert_eq!(
            glued(
                "[carol] carol 的第 0 句[carol] carol 的第 2 句",
                &nicks(),
                sentence
            ),
            Some(vec![
                "[carol] carol 的第 0 句".to_owned(),
                "[carol] carol 的第 2 句".to_owned()
            ])
        );
        assert_eq!(
            glued(
                "[bob] bob 的第 7 句[carol] carol 的第 1 句[bob] bob 的第 8 句",
                &nicks(),
                sentence
            )
            .map(|pieces| pieces.len()),
            Some(3)
        );
    }

    #[test]
    fn a_half_line_is_not_glued() {
        for got in [
            "[carol] carol 的第 0 句",
            "[carol] carol 的第",
            "[carol] carol 的第 0 句[carol] carol 的",
            "[carol] carol 的第 0 句[bob] bob",
            "carol 的第 0 句[carol] carol 的第 1 句",
            "[carol] carol 的第 0 句 [carol] carol 的第 1 句",
        ] {
            assert_eq!(glued(got, &nicks(), sentence), None, "{got}");
        }
    }
}
