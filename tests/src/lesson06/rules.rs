//! 第 6 课的第 5、7、8 项:昵称的规则、命令、坏的输入。

use super::text::{cleaned, is_said, needs_cleaning};
use super::*;
use crate::inputs::{self, Input, Kind};

pub(super) fn nicknames_are_checked(session: &mut Session) -> Result<(), Failure> {
    let mut room = Room::open(session)?;
    let _alice = room.join("alice")?;
    let mut newcomer = room.connect("新来的人")?;
    const CHARACTERS: &str =
        "昵称只能是字母(汉字也算)、数字、_ 和 -:char::is_alphanumeric 加上 '_' 和 '-'。";
    let bad = [
        (
            "一二三四五六七八九十一二三四五六七",
            "17 个字符,超过了 16 个",
            "昵称最多 16 个字符:用 chars().count() 数字符(一个汉字是一个字符),超过 16 个就不行。",
        ),
        (
            "   ",
            "去掉两头的空白以后是空的",
            "先去掉两头的空白(trim),再数字符:至少要有 1 个。",
        ),
        (
            "bad nick",
            "中间有空格(/msg 就切不开昵称和内容了)",
            CHARACTERS,
        ),
        (
            "\u{1b}[31mred",
            "有控制字符 ESC(会把别人的终端变成红色)",
            CHARACTERS,
        ),
        (
            "alice",
            "已经有人在用了",
            "昵称不能和在线的人重名:查「有没有人在用」和「把他加进名单」要在同一次加锁里做,\
             否则两个人同时报上同一个昵称,会都被接受。",
        ),
    ];
    let rules_hint = "昵称的规则:1 到 16 个字符(用 chars().count() 数字符,不是 len() 数字节),\
         只能是字母(汉字也算)、数字、_ 和 -;不能和在线的人重名。不合法时回一行「! 原因」,\
         然后接着等下一行昵称,不要断开他。";
    for (i, (nick, why, rule)) in bad.into_iter().enumerate() {
        let sent_nick =
            |f: Failure| f.sent(format!("{nick}\n").as_bytes(), "服务器(连上以后报的昵称)");
        let reply = match newcomer.send_line(nick, deadline(REPLY)) {
            Ok(()) => newcomer.wait_for(deadline(REPLY), room.alive(), |line| {
                is_error(line) || line.starts_with("* ") && line.contains(nick)
            }),
            Err(err) => Err(Missed {
                before: Vec::new(),
                ending: ReadEnding::Error(crate::tcp::describe_io_error(&err)),
            }),
        };
        let reply = match reply {
            Ok((_, line)) => line,
            // 前一个昵称被拒绝以后,连接就断了:不管是发不出去还是读到了关闭,都是同一个原因。
            Err(missed) if i > 0 && missed.ending != ReadEnding::GaveUp => {
                let ending = match missed.ending {
                    ReadEnding::Error(err) => format!("然后{err}"),
                    _ => "然后服务器关闭了这个连接".to_owned(),
                };
                return Err(room.trouble(sent_nick(
                    Failure::new("昵称被拒绝以后,服务器断开了连接")
                        .expected(format!(
                            "一行以「! 」开头的提示(这个昵称{why}),连接还开着,可以接着报下一个昵称"
                        ))
                        .actual(format!("{}\n({ending})", newcomer.transcript(6)))
                        .hint(
                            "昵称不合法或者重名时,回一行「! 原因」,然后接着等下一行昵称,不要断开他:\
                             他多半只是打错了,换一个就好。",
                        )
                        .read("昵称")
                        .reproduce(REPRODUCE),
                )));
            }
            Err(missed) => {
                return Err(sent_nick(room.missed(
                    &newcomer,
                    missed,
                    &format!("昵称「{}」被拒绝的提示", show_text(nick)),
                    &format!("一行以「! 」开头的提示,说明为什么不行:这个昵称{why}"),
                    rules_hint,
                )));
            }
        };
        if !is_error(&reply) {
            let headline = if nick == "alice" {
                "昵称「alice」已经有人在用了,却又被接受了".to_owned()
            } else {
                format!("不合法的昵称「{}」被接受了", show_text(nick))
            };
            return Err(room.trouble(
                Failure::new(headline)
                    .sent(format!("{nick}\n").as_bytes(), "服务器(连上以后报的昵称)")
                    .expected(format!("一行以「! 」开头的提示:这个昵称{why}"))
                    .actual(newcomer.transcript(6))
                    .hint(format!(
                        "{rule} 不合法时回一行「! 原因」,接着等下一行昵称。"
                    ))
                    .read("昵称")
                    .reproduce(REPRODUCE),
            ));
        }
    }
    // 被拒绝了这么多次以后,一个合法的中文昵称照样能用。
    let nick = "小明";
    room.send(&newcomer, nick)?;
    room.expect(
        &mut newcomer,
        "合法昵称「小明」的欢迎语",
        "一行以「* 」开头、带着「小明」的欢迎语",
        |line| line.starts_with("* ") && line.contains(nick),
        "昵称不合法时,回一行「! 原因」以后要接着等下一行,直到拿到一个合法的昵称。\
         汉字也是字母:char::is_alphanumeric 对「小」返回 true。",
    )?;

    // 恰好 16 个字符的昵称是合法的,哪怕它有 48 个字节。
    let nick = LONGEST_NICK;
    let mut longest = room.connect("16 个字的人")?;
    room.send(&longest, nick)?;
    let (_, reply) = room
        .expect(
            &mut longest,
            &format!("合法昵称「{nick}」的欢迎语"),
            &format!("一行以「* 」开头、带着「{nick}」的欢迎语"),
            |line| is_error(line) || line.starts_with("* ") && line.contains(nick),
            "昵称不合法时,回一行「! 原因」以后要接着等下一行,直到拿到一个合法的昵称。",
        )
        .map_err(|f| f.sent(format!("{nick}\n").as_bytes(), "服务器(连上以后报的昵称)"))?;
    if is_error(&reply) {
        return Err(room.trouble(
            Failure::new(format!("恰好 16 个字符的昵称「{nick}」被拒绝了"))
                .sent(format!("{nick}\n").as_bytes(), "服务器(连上以后报的昵称)")
                .expected(format!(
                    "一行以「* 」开头、带着「{nick}」的欢迎语:它有 16 个字符(48 个字节),正好是上限"
                ))
                .actual(longest.transcript(4))
                .hint(
                    "昵称最多 16 个字符,不是 16 个字节:一个汉字是 1 个字符、3 个字节。\
                     用 chars().count() 数字符,不要用 len()(它数的是字节)。",
                )
                .read("昵称")
                .reproduce(REPRODUCE),
        ));
    }
    Ok(())
}

/// 恰好 16 个字符(48 个字节)的昵称:合法昵称最长的样子。
const LONGEST_NICK: &str = "一二三四五六七八九十一二三四五六";

pub(super) fn commands_work(session: &mut Session) -> Result<(), Failure> {
    let mut room = Room::open(session)?;
    let mut alice = room.join("alice")?;
    let mut bob = room.join("bob")?;
    let mut carol = room.join("carol")?;

    room.send(&alice, "/list")?;
    let (_, list) = room.expect(
        &mut alice,
        "「/list」的回复",
        "一行「* 在线 3 人: alice, bob, carol」",
        is_list,
        "/list 只回给发命令的人一行「* 在线 N 人: 昵称, 昵称」。",
    )?;
    if let Some((problem, hint)) = list_problem(&list, &["alice", "bob", "carol"], &[], "alice") {
        return Err(Failure::new(format!("「/list」的名单不对:{problem}"))
            .expected("一行「* 在线 3 人: alice, bob, carol」")
            .actual(format!("alice 收到「{}」", show_text(&list)))
            .hint(hint)
            .read("消息和命令")
            .reproduce(REPRODUCE));
    }

    // 改名:自己收到确认,别人收到通知,名单也变了。
    room.send(&alice, "/nick alicia")?;
    room.expect(
        &mut alice,
        "改名成功的确认",
        "一行以「* 」开头、带着新昵称 alicia 的确认,比如「* 你现在叫 alicia」",
        |line| line.starts_with("* ") && line.contains("alicia"),
        "/nick 新昵称:新昵称合法又没人用,就改掉名单里的昵称,回一行「* 你现在叫 新昵称」。",
    )?;
    room.expect(
        &mut bob,
        "alice 改名的通知",
        "一行以「* 」开头、带着 alice 和 alicia 的通知,比如「* alice 改名为 alicia」",
        |line| line.starts_with("* ") && line.contains("alice ") && line.contains("alicia"),
        "改名以后要告诉其他人:「* 旧昵称 改名为 新昵称」。",
    )?;
    room.expect_log("alice 改名为 alicia 的一行", &["alice", "alicia"], None)?;
    room.send(&bob, "/nick carol")?;
    room.expect(
        &mut bob,
        "改成别人的昵称时的错误提示",
        "一行以「! 」开头的提示:carol 已经有人用了",
        |line| is_error(line) || line.starts_with("* ") && line.contains("carol"),
        "/nick 也要检查重名,和报昵称时一样。",
    )
    .and_then(|(_, line)| {
        if is_error(&line) {
            Ok(())
        } else {
            Err(Failure::new("bob 改成了别人正在用的昵称 carol")
                .expected("一行以「! 」开头的提示:carol 已经有人用了")
                .actual(format!("收到「{}」", show_text(&line)))
                .hint("/nick 也要检查重名,和报昵称时一样。"))
        }
    })?;

    // 私信:只有收信人收到。
    let secret = "今晚八点老地方";
    room.send(&bob, &format!("/msg alicia {secret}"))?;
    room.expect(
        &mut alice,
        "bob 的私信",
        &format!("一行以「[bob」开头、带着「{secret}」的私信,比如「[bob 悄悄对你说] {secret}」"),
        |line| line.starts_with("[bob") && line.contains(secret),
        "/msg 昵称 内容:找到这个昵称(注意 alice 已经改名叫 alicia 了),只给他一个人发\
         「[发信人 悄悄对你说] 内容」。",
    )?;
    // 先让 bob 自己过一道屏障:他的 /list 有了回复,他的 /msg 引起的一切(包括错发给 carol 的)
    // 都已经放进了各人的信箱;这时 carol 的屏障之前没有,就是真的没有。
    // (只用 carol 的屏障不够:bob 的线程可能刚交给 alice、还没交给 carol。)
    room.barrier(&mut bob)?;
    let before = room.barrier(&mut carol)?;
    if let Some(leak) = before.iter().find(|l| l.contains(secret)) {
        return Err(Failure::new("私信被别人看到了")
            .expected("bob 发给 alicia 的私信只有 alicia 收到")
            .actual(format!("carol 也收到了「{}」", show_text(leak)))
            .hint("/msg 只发给一个人,不要调用广播。")
            .reproduce(REPRODUCE));
    }

    // 私信发给不在线的人:只回给发命令的人一行「! …」。
    room.send(&bob, "/msg nobody 在吗")?;
    let before = room.barrier(&mut bob)?;
    if !before.iter().any(|l| is_error(l)) {
        return Err(room.trouble(
            Failure::new("私信发给了一个不在线的人,发信人却没有收到错误提示")
                .sent("/msg nobody 在吗\n/list\n".as_bytes(), "服务器(从 bob 的连接发出)")
                .expected("「/list」的回复之前,先收到一行以「! 」开头的提示,比如「! 没有叫 nobody 的人在线」")
                .actual(bob.transcript(6))
                .hint("/msg 找不到这个昵称时,回一行「! …」给发信人,让他知道悄悄话没有送到。")
                .read("消息和命令")
                .reproduce(REPRODUCE),
        ));
    }

    // 未知命令、/help 和空行:只回给发命令的人(空行什么也不回)。
    // 服务器按顺序处理 carol 的行:回复要在她的「/list」的回复之前到。
    room.send(&carol, "/dance")?;
    let before = room.barrier(&mut carol)?;
    if !before.iter().any(|l| is_error(l)) {
        return Err(room.trouble(
            Failure::new("carol 没有收到未知命令「/dance」的错误提示")
                .sent(b"/dance\n/list\n", "服务器(从 carol 的连接发出)")
                .expected(
                    "「/list」的回复之前,先收到一行以「! 」开头的提示,\
                     比如「! 未知命令 /dance,输入 /help 查看可用的命令」",
                )
                .actual(carol.transcript(6))
                .hint(
                    "以 / 开头、又不是已知命令的行,回一行「! 未知命令 …」给发的人,\
                     不要当成普通的话广播出去。",
                )
                .read("消息和命令")
                .reproduce(REPRODUCE),
        ));
    }
    room.send(&carol, "/help")?;
    room.send(&carol, "")?;
    let before = room.barrier(&mut carol)?;
    if !before
        .iter()
        .any(|l| l.starts_with("* ") && l.contains("/msg"))
    {
        return Err(room.trouble(
            Failure::new("carol 没有收到「/help」的回复")
                .sent(b"/help\n\n/list\n", "服务器(从 carol 的连接发出)")
                .expected("「/list」的回复之前,先收到以「* 」开头、提到 /list、/nick、/msg、/quit 的命令说明")
                .actual(carol.transcript(6))
                .hint("/help 回一行(或几行)以「* 」开头的命令说明,只给发命令的人。")
                .read("消息和命令")
                .reproduce(REPRODUCE),
        ));
    }
    let before = room.barrier(&mut bob)?;
    if let Some(leak) = before
        .iter()
        .find(|l| l.contains("dance") || l.contains("/help") || l.starts_with("[carol]"))
    {
        return Err(Failure::new("别人的命令被广播了出来")
            .expected("carol 发的 /dance、/help 和一个空行,bob 什么也收不到")
            .actual(format!("bob 收到了「{}」", show_text(leak)))
            .hint(
                "命令不是普通的话:先看一行是不是以 / 开头,是的话当命令处理,不要广播。\
                 空行什么也不做。",
            )
            .read("消息和命令")
            .reproduce(REPRODUCE));
    }

    // /quit:服务器关闭他的连接,其他人收到通知。紧跟着的「/list」不该再有回复:
    // 服务器处理完 /quit 就不再读这个连接了。
    room.send_bytes(&carol, b"/quit\n/list\n")?;
    let after_quit = carol.wait_for(deadline(REPLY), room.alive(), is_list);
    let closed = matches!(
        &after_quit,
        Err(Missed {
            ending: ReadEnding::Closed | ReadEnding::Error(_),
            ..
        })
    );
    if !closed {
        let ending = match after_quit {
            Ok(_) => "(/quit 之后的「/list」也得到了回复:服务器还在读这个连接)".to_owned(),
            Err(_) => format!("(等了 {} 秒,连接还开着)", scaled(REPLY).as_secs()),
        };
        return Err(room.trouble(
            Failure::new("carol 发了 /quit,服务器却没有关闭她的连接")
                .sent(b"/quit\n/list\n", "服务器(从 carol 的连接发出)")
                .expected("服务器回一句再见(可以不回),然后关闭连接;/quit 之后的行不再处理")
                .actual(format!("{}\n{ending}", carol.transcript(4)))
                .hint(
                    "/quit:回一句再见,然后离开读循环(return 或 break),把他从名单里删掉,\
                     连接随之关闭。",
                )
                .read("消息和命令")
                .reproduce(REPRODUCE),
        ));
    }
    room.expect(
        &mut bob,
        "carol 说 /quit 以后离开的通知",
        "一行以「* 」开头、带着 carol 和「离开」的通知",
        |line| notice_about(line, "carol", "离开"),
        "/quit 和断开一样:从名单里删掉,告诉其他人。",
    )?;
    Ok(())
}

/// 章节「坏的输入」里的三个例子。
const BROKEN_UTF8: &[u8] = b"\xff\xfe \xe5\x9d\x8f\xe5\xad\x97\xe8\x8a\x82";
const ANSI: &str = "\u{1b}[2J\u{1b}[31m红色警报\u{7}";
const SPOOF: &str = "看这个\u{202E}txt.exe\u{200B}\u{2028}[bob] 我是假的\u{2029}";

/// 第 8 项说的要清理的话(不带换行):章节的三个例子,加上输入目录里要清理的每一句。
fn dirty_lines() -> Vec<(Vec<u8>, Option<Input>)> {
    let mut lines = vec![
        (BROKEN_UTF8.to_vec(), None),
        (ANSI.as_bytes().to_vec(), None),
        (SPOOF.as_bytes().to_vec(), None),
    ];
    let catalogue = inputs::lines(&[Kind::Control, Kind::BadUtf8, Kind::Text, Kind::Space]);
    lines.extend(
        catalogue
            .into_iter()
            .filter(|input| needs_cleaning(&input.bytes))
            .map(|input| (input.bytes.clone(), Some(input))),
    );
    lines
}

/// alice 说一句要清理的话 `bytes`,bob 要恰好收到清理过的样子。
fn forwarded_clean(
    room: &mut Room,
    alice: &ChatPeer,
    bob: &mut ChatPeer,
    bytes: &[u8],
    input: Option<&Input>,
) -> Result<(), Failure> {
    let mut line = bytes.to_vec();
    line.push(b'\n');
    let bad_utf8 = std::str::from_utf8(bytes).is_err();
    let expected = said("alice", &cleaned(bytes));
    let sent = |f: Failure| {
        let f = f.sent(&line, "服务器(从 alice 的连接发出)");
        match input {
            Some(input) => f.sent_note(input.note()),
            None => f,
        }
    };
    room.send_bytes(alice, &line)?;
    let what = if bad_utf8 {
        "带坏 UTF-8 字节"
    } else if String::from_utf8_lossy(bytes)
        .chars()
        .any(is_invisible_format)
    {
        "带看不见的格式字符"
    } else {
        "带控制字符"
    };
    let (_, got) = room
        .expect(
            bob,
            &format!("alice 发的{what}的一行"),
            &format!("一行「{}」", show_text(&expected)),
            |line| line.starts_with("[alice] ") || notice_about(line, "alice", "离开"),
            if bad_utf8 { UTF8_HINT } else { CLEAN_HINT },
        )
        .map_err(sent)?;
    if is_said(&got, "alice", bytes) {
        return Ok(());
    }
    let (headline, hint) = if got.starts_with("* ") {
        (
            format!("alice 发了一行{what}的话,就被断开了"),
            if bad_utf8 { UTF8_HINT } else { CLEAN_HINT },
        )
    } else if has_control(&got) {
        (
            "控制字符被原样转发给了别人".to_owned(),
            "\\u{1b}[2J 会清掉 bob 的屏幕,\\u{1b}[31m 把他的终端变成红色:谁都能遥控别人的终端。\
             转发前把控制字符换掉:text.chars().map(|c| if c.is_control() { '\u{FFFD}' } else { c })。",
        )
    } else if got.chars().any(is_invisible_format) {
        (
            "看不见的格式字符被原样转发给了别人".to_owned(),
            "U+202E 让之后的字从右往左显示,能把「txt.exe」变成别的样子;U+2028 在有的终端和界面里\
             就是换行,能伪造出一行「[bob] …」。char::is_control 只认 Cc 类,这几类要另外列出来换掉。",
        )
    } else if bad_utf8 {
        (
            "带坏 UTF-8 字节的一行,到了别人那里变了样".to_owned(),
            "坏的字节要变成 �(U+FFFD),其余的文字原样保留:String::from_utf8_lossy 就是这样做的。",
        )
    } else {
        (
            format!("{what}的一行,到了别人那里变了样"),
            "清理只做章节写明的替换:制表符换成空格,控制字符和看不见的格式字符换成 �(不是删掉),\
             其余的字一个也不动。",
        )
    };
    Err(sent(
        room.trouble(
            Failure::new(headline)
                .expected(format!("bob 收到「{}」", show_text(&expected)))
                .actual(format!(
                    "bob 收到「{}」{}\n{}",
                    show_text(&got),
                    unicode_of_invisible(&got),
                    bob.transcript(4)
                ))
                .hint(hint)
                .read("坏的输入")
                .reproduce(REPRODUCE),
        ),
    ))
}

/// 行里看不见的格式字符的编号,比如「,里面有 U+202E、U+200B」;没有就是空的。
fn unicode_of_invisible(line: &str) -> String {
    let codes: Vec<String> = line
        .chars()
        .filter(|&c| is_invisible_format(c))
        .map(|c| format!("U+{:04X}", c as u32))
        .collect();
    if codes.is_empty() {
        String::new()
    } else {
        format!(",里面有 {}", codes.join("、"))
    }
}

/// 坏的 UTF-8 该怎么读。
const UTF8_HINT: &str = "网络上来的字节不一定是合法的 UTF-8。read_line 遇到坏字节会返回 InvalidData 错误;\
     用 read_until(b'\\n', …) 读字节,再用 String::from_utf8_lossy 变成文字(坏字节变成 �)。";

/// 控制字符和格式字符该怎么清理。
const CLEAN_HINT: &str = "这一行要转发给其他人,但先清理:制表符换成空格,控制字符(char::is_control)\
     和看不见的格式字符换成 �。说话的人不该因此被断开。";

pub(super) fn bad_input_is_contained(session: &mut Session) -> Result<(), Failure> {
    let mut room = Room::open(session)?;
    let alice = room.join("alice")?;
    let mut bob = room.join("bob")?;

    // 要清理的话:先是章节里的三个例子,再是输入目录里每一句要清理的。每一句都要照样转发,
    // 只做章节写明的替换;服务器不能因此出事,也不能因此断开 alice。
    for (bytes, input) in dirty_lines() {
        forwarded_clean(&mut room, &alice, &mut bob, &bytes, input.as_ref())?;
    }

    // 超长的一行:只断开这个人,其他人照常。
    let mut mallory = room.join("mallory")?;
    room.expect(
        &mut bob,
        "mallory 进入聊天室的通知",
        "一行以「* 」开头、带着 mallory 和「进入」的通知",
        |line| notice_about(line, "mallory", "进入"),
        JOIN_HINT,
    )?;
    // 恰好 1024 字节(不算换行)的一行照常转发;多 1 个字节,就断开发它的人。
    // 用汉字:1025 字节只有 343 个字符,按字符数的上限抓不住它。
    let longest = format!("{}x", "长".repeat(341));
    room.send(&alice, &longest)?;
    let expected = said("alice", &longest);
    let (_, got) = room.expect(
        &mut bob,
        "alice 发的恰好 1024 字节的一行",
        "一行「[alice] 长长长……长x」(alice 发的 1024 字节原样转发)",
        |line| line.starts_with("[alice] ") || notice_about(line, "alice", "离开"),
        "一行最多 1024 字节(不算换行):恰好 1024 字节的还是合法的。",
    )?;
    if got != expected {
        return Err(room.trouble(
            Failure::new("恰好 1024 字节的一行,没有原样转发给别人")
                .sent_note("alice 发了一行「长长长……长x」:341 个「长」加一个 x,恰好 1024 字节,再加一个换行")
                .expected("bob 收到「[alice] 」加上这 1024 字节:上限是 1024 字节,不算换行,恰好到上限的一行是合法的")
                .actual(format!("bob 收到「{}」", show_text(&got)))
                .hint(
                    "上限是 1024 字节,不算行尾的换行(和它前面的 \\r):先去掉换行,再比较 len() > 1024。\
                     读的时候用 take(1024 + 2) 给换行留出位置。",
                )
                .read("限制")
                .reproduce(REPRODUCE),
        ));
    }
    let long = format!("{}xy", "长".repeat(341));
    // 服务器可能读到一半就断开了他,这时发送会失败:那正是我们想要的。
    let _ = mallory.send_line(&long, deadline(REPLY));
    let (_, got) = room.expect(
        &mut bob,
        "mallory 被断开以后离开的通知",
        "一行以「* 」开头、带着 mallory 和「离开」的通知",
        |line| line.starts_with("[mallory]") || notice_about(line, "mallory", "离开"),
        "一行太长被断开,也是离开:从名单里删掉,告诉其他人。",
    )?;
    if got.starts_with("[mallory]") {
        return Err(room.trouble(
            Failure::new("1025 字节的一行被转发给了别人")
                .sent_note("mallory 发了一行「长长长……长xy」:341 个「长」加 xy,1025 字节(只有 343 个字符)")
                .expected("一行最多 1024 字节(不算换行):超过时回一行「! …」(可以不回),断开 mallory,其他人收到他离开的通知")
                .actual(format!("bob 收到「{}」", show_text(&got)))
                .hint(
                    "上限数的是字节,不是字符:用 len(),不要用 chars().count()。\
                     读之前用 (&mut reader).take(1024 + 2) 限制最多读多少字节;读满了还没有换行,\
                     或者去掉换行以后还超过 1024 字节,就告诉他、断开他。",
                )
                .read("限制")
                .reproduce(REPRODUCE),
        ));
    }
    let alive = room.server.program.exited().is_none();
    let ending = mallory.read_to_close(deadline(REPLY), || alive).ending;
    if !matches!(ending, ReadEnding::Closed | ReadEnding::Error(_)) {
        return Err(room.trouble(
            Failure::new("一行 1025 字节的消息,服务器既没有拒绝,也没有断开发送的人")
                .sent_note("mallory 发了一行「长长长……长xy」:1025 字节")
                .expected("一行最多 1024 字节:超过时回一行「! …」(可以不回),然后断开 mallory")
                .actual(format!(
                    "{}\n(等了 {} 秒,连接还开着)",
                    mallory.transcript(4),
                    scaled(REPLY).as_secs()
                ))
                .hint(
                    "不限制一行的长度,一个一直不发换行的人就能把服务器的内存吃光。\
                     读之前用 (&mut reader).take(1024 + 2) 限制最多读多少字节;读满了还没有换行,\
                     就告诉他、断开他。",
                )
                .read("坏的输入"),
        ));
    }

    // 一个一直不发换行的人:读满上限还没有换行,就该断开他,不能等到换行来了再量。
    let mut eve = room.join("eve")?;
    let endless = "长".repeat(1400);
    let _ = eve.send_bytes(endless.as_bytes(), deadline(REPLY));
    let alive = room.server.program.exited().is_none();
    let ending = eve.read_to_close(deadline(REPLY), || alive).ending;
    if !matches!(ending, ReadEnding::Closed | ReadEnding::Error(_)) {
        return Err(room.trouble(
            Failure::new("一个一直不发换行的人,发了 4200 字节,服务器还在等他的换行")
                .sent_note("eve 发了 4200 字节的「长长长……」,没有换行,然后等着")
                .expected("读满 1024 字节(加上留给换行的 2 字节)还没有换行,就是超长:回一行「! …」(可以不回),断开 eve")
                .actual(format!(
                    "{}\n(等了 {} 秒,连接还开着)",
                    eve.transcript(4),
                    scaled(REPLY).as_secs()
                ))
                .hint(
                    "读到换行以后再量长度,已经晚了:一直不发换行的人能让 read_until 一直往内存里塞。\
                     读之前用 (&mut reader).take(1024 + 2) 限制这一次最多读多少字节;\
                     读满了还没有换行,就告诉他、断开他。",
                )
                .read("第 8 步：读一行")
                .reproduce(REPRODUCE),
        ));
    }

    let text = "风平浪静";
    room.send(&alice, text)?;
    let expected = said("alice", text);
    room.expect(
        &mut bob,
        &format!("alice 在这些坏输入之后说的「{text}」"),
        &format!("一行「{expected}」"),
        |line| line == expected,
        "坏的输入只能影响发它的那个人,聊天室要照常工作。",
    )?;
    Ok(())
}
