//! 第 6 课的第 5、7、8、9 项:昵称的规则、命令、坏的输入、门口(满员和报昵称的时限)。

use super::*;

pub(super) fn nicknames_are_checked(session: &mut Session) -> Result<(), Failure> {
    let mut room = Room::open(session)?;
    let _alice = room.join("alice")?;
    let mut newcomer = room.connect("新来的人")?;
    let bad = [
        (
            "一二三四五六七八九十一二三四五六七",
            "17 个字符,超过了 16 个",
        ),
        ("bad nick", "中间有空格(/msg 就切不开昵称和内容了)"),
        ("\u{1b}[31mred", "有控制字符 ESC(会把别人的终端变成红色)"),
        ("alice", "已经有人在用了"),
    ];
    for (nick, why) in bad {
        room.send(&newcomer, nick)?;
        let (_, reply) = room
            .expect(
                &mut newcomer,
                &format!("昵称「{}」被拒绝的提示", show_text(nick)),
                &format!("一行以「! 」开头的提示,说明为什么不行:这个昵称{why}"),
                |line| {
                    is_error(line)
                        || line.starts_with("* ") && line.contains(nick) && !nick.is_empty()
                },
                "昵称的规则:1 到 16 个字符(用 chars().count() 数字符,不是 len() 数字节),\
             只能是字母(汉字也算)、数字、_ 和 -;不能和在线的人重名。不合法时回一行「! 原因」,\
             然后接着等下一行昵称,不要断开他。",
            )
            .map_err(|f| f.sent(format!("{nick}\n").as_bytes(), "服务器(连上以后报的昵称)"))?;
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
                    .hint(
                        "昵称的规则:1 到 16 个字符(用 chars().count() 数字符,不是 len() 数字节),\
                         只能是字母(汉字也算)、数字、_ 和 -;不能和在线的人重名。",
                    )
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
    Ok(())
}

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
    if !["alice", "bob", "carol", "3"]
        .iter()
        .all(|s| list.contains(s))
    {
        return Err(Failure::new("「/list」的名单不对")
            .expected("一行「* 在线 3 人: alice, bob, carol」")
            .actual(format!("收到「{}」", show_text(&list)))
            .hint("名单来自房间里的每一个人(按进来的先后),人数是名单的长度;刚进来的人也要在里面。")
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
    let before = room.barrier(&mut carol)?;
    if let Some(leak) = before.iter().find(|l| l.contains(secret)) {
        return Err(Failure::new("私信被别人看到了")
            .expected("bob 发给 alicia 的私信只有 alicia 收到")
            .actual(format!("carol 也收到了「{}」", show_text(leak)))
            .hint("/msg 只发给一个人,不要调用广播。")
            .reproduce(REPRODUCE));
    }

    // 未知命令和 /help:只回给发命令的人。
    room.send(&carol, "/dance")?;
    room.expect(
        &mut carol,
        "未知命令「/dance」的错误提示",
        "一行以「! 」开头的提示,比如「! 未知命令 /dance,输入 /help 查看可用的命令」",
        is_error,
        "以 / 开头、又不是已知命令的行,回一行「! 未知命令 …」给发的人,不要当成普通的话广播出去。",
    )?;
    room.send(&carol, "/help")?;
    room.expect(
        &mut carol,
        "「/help」的回复",
        "以「* 」开头、提到 /list、/nick、/msg、/quit 的命令说明",
        |line| line.starts_with("* ") && line.contains("/msg"),
        "/help 回一行(或几行)以「* 」开头的命令说明。",
    )?;
    let before = room.barrier(&mut bob)?;
    if let Some(leak) = before
        .iter()
        .find(|l| l.contains("dance") || l.contains("/help"))
    {
        return Err(Failure::new("别人的命令被广播了出来")
            .expected("carol 发的 /dance 和 /help 只有 carol 自己收到回复")
            .actual(format!("bob 收到了「{}」", show_text(leak)))
            .hint("命令不是普通的话:先看一行是不是以 / 开头,是的话当命令处理,不要广播。")
            .reproduce(REPRODUCE));
    }

    // /quit:服务器关闭他的连接,其他人收到通知。
    room.send(&carol, "/quit")?;
    let alive = room.server.program.exited().is_none();
    let ending = carol.read_to_close(deadline(REPLY), || alive).ending;
    if !matches!(ending, ReadEnding::Closed | ReadEnding::Error(_)) {
        return Err(room.trouble(
            Failure::new("carol 发了 /quit,服务器却没有关闭她的连接")
                .expected("服务器回一句再见(可以不回),然后关闭连接")
                .actual(format!(
                    "{}\n(等了 {} 秒,连接还开着)",
                    carol.transcript(4),
                    scaled(REPLY).as_secs()
                ))
                .hint("/quit:让这个客户端的线程离开读循环,把他从名单里删掉,连接随之关闭。")
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

pub(super) fn bad_input_is_contained(session: &mut Session) -> Result<(), Failure> {
    let mut room = Room::open(session)?;
    let alice = room.join("alice")?;
    let mut bob = room.join("bob")?;

    // 坏的 UTF-8:照样转发(坏的字节变成 �),服务器不能因此出事。
    let broken = b"\xff\xfe \xe5\x9d\x8f\xe5\xad\x97\xe8\x8a\x82\n";
    room.send_bytes(&alice, broken)?;
    room.expect(
        &mut bob,
        "alice 发的带坏 UTF-8 字节的一行",
        "一行以「[alice] 」开头、带着「坏字节」(坏掉的字节显示为 �)",
        |line| line.starts_with("[alice] ") && line.contains("坏字节"),
        "网络上来的字节不一定是合法的 UTF-8。read_line 遇到坏字节会返回 InvalidData 错误;\
         用 read_until(b'\\n', …) 读字节,再用 String::from_utf8_lossy 变成文字(坏字节变成 �)。",
    )
    .map_err(|f| f.sent(broken, "服务器(从 alice 的连接发出)"))?;

    // ANSI 转义序列:不能原样到达别人的终端。
    let ansi = "\u{1b}[2J\u{1b}[31m红色警报\u{7}";
    room.send(&alice, ansi)?;
    let (_, got) = room
        .expect(
            &mut bob,
            "alice 发的带 ANSI 转义序列的一行",
            "一行以「[alice] 」开头、带着「红色警报」,但没有任何控制字符",
            |line| line.starts_with("[alice] ") && line.contains("红色警报"),
            "这一行要转发给其他人,但先把里面的控制字符换掉。",
        )
        .map_err(|f| f.sent(ansi.as_bytes(), "服务器(从 alice 的连接发出)"))?;
    if has_control(&got) {
        return Err(Failure::new("控制字符被原样转发给了别人")
            .sent(format!("{ansi}\n").as_bytes(), "服务器(从 alice 的连接发出)")
            .expected("bob 收到的一行里没有 ESC(\\u{1b})、响铃(\\u{7})这样的控制字符")
            .actual(format!("bob 收到「{}」", show_text(&got)))
            .hint(
                "\\u{1b}[2J 会清掉 bob 的屏幕,\\u{1b}[31m 把他的终端变成红色:谁都能遥控别人的终端。\
                 转发前把控制字符换掉:text.chars().map(|c| if c.is_control() { '\u{FFFD}' } else { c })。",
            )
            .read("坏的输入")
            .reproduce(REPRODUCE));
    }

    // 看不见的格式字符(Cf)、行分隔符(Zl)、段分隔符(Zp):同样不能原样转发。
    let spoof = "看这个\u{202E}txt.exe\u{200B}\u{2028}[bob] 我是假的\u{2029}";
    room.send(&alice, spoof)?;
    let (_, got) = room
        .expect(
            &mut bob,
            "alice 发的带看不见的格式字符的一行",
            "一行以「[alice] 」开头、带着「我是假的」,但没有 U+202E、U+200B、U+2028、U+2029",
            |line| line.starts_with("[alice] ") && line.contains("我是假的"),
            "这一行要转发给其他人,但先把里面看不见的格式字符换掉。",
        )
        .map_err(|f| f.sent(spoof.as_bytes(), "服务器(从 alice 的连接发出)"))?;
    if let Some(bad) = got.chars().find(|&c| is_invisible_format(c)) {
        return Err(Failure::new("看不见的格式字符被原样转发给了别人")
            .sent(spoof.as_bytes(), "服务器(从 alice 的连接发出)")
            .expected(
                "bob 收到的一行里没有 Unicode 的格式字符(Cf,比如 U+202E、U+200B)、\
                 行分隔符(U+2028)和段分隔符(U+2029)",
            )
            .actual(format!(
                "bob 收到「{}」,里面有 U+{:04X}",
                show_text(&got),
                bad as u32
            ))
            .hint(
                "U+202E 让之后的字从右往左显示,能把「txt.exe」变成别的样子;U+2028 在有的终端和界面里\
                 就是换行,能伪造出一行「[bob] …」。char::is_control 只认 Cc 类,这几类要另外列出来换掉。",
            )
            .read("坏的输入")
            .reproduce(REPRODUCE));
    }

    // 超长的一行:只断开这个人,其他人照常。
    let mut mallory = room.join("mallory")?;
    room.expect(
        &mut bob,
        "mallory 进入聊天室的通知",
        "一行以「* 」开头、带着 mallory 和「进入」的通知",
        |line| notice_about(line, "mallory", "进入"),
        "有人进了聊天室以后,要告诉已经在里面的每一个人。",
    )?;
    let long = "长".repeat(4000);
    // 服务器可能读到一半就断开了他,这时发送会失败:那正是我们想要的。
    let _ = mallory.send_line(&long, deadline(REPLY));
    let alive = room.server.program.exited().is_none();
    let ending = mallory.read_to_close(deadline(REPLY), || alive).ending;
    if !matches!(ending, ReadEnding::Closed | ReadEnding::Error(_)) {
        return Err(room.trouble(
            Failure::new("一行 12000 字节的消息,服务器既没有拒绝,也没有断开发送的人")
                .sent_note("mallory 发了一行 12000 字节的「长长长……」")
                .expected("一行最多 1024 字节:超过时回一行「! …」(可以不回),然后断开 mallory")
                .actual(format!(
                    "{}\n(等了 {} 秒,连接还开着)",
                    mallory.transcript(4),
                    scaled(REPLY).as_secs()
                ))
                .hint(
                    "不限制一行的长度,一个一直不发换行的人就能把服务器的内存吃光。\
                     读之前用 (&mut reader).take(1025) 限制最多读多少字节;读满了还没有换行,\
                     就告诉他、断开他。",
                )
                .read("坏的输入"),
        ));
    }
    room.expect(
        &mut bob,
        "mallory 被断开以后离开的通知",
        "一行以「* 」开头、带着 mallory 和「离开」的通知",
        |line| notice_about(line, "mallory", "离开"),
        "因为一行太长被断开,也是离开:从名单里删掉,告诉其他人。",
    )?;

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

/// 门口检查用的上限和时限(课本:`--max-clients`、`--nick-timeout`)。
const DOOR_SEATS: &str = "3";
const NICK_TIMEOUT: Duration = Duration::from_secs(1);

pub(super) fn the_door_is_guarded(session: &mut Session) -> Result<(), Failure> {
    let nick_timeout = scaled(NICK_TIMEOUT);
    let seconds = nick_timeout.as_secs().max(1).to_string();
    let server = session.start_server_as(
        &["server"],
        &["--max-clients", DOOR_SEATS, "--nick-timeout", &seconds],
    )?;
    let mut room = Room { server };
    let mut alice = room.join("alice")?;
    let bob = room.join("bob")?;
    let mut dave = room.join("dave")?;

    // 第 4 个连接:满了。
    let mut late = room.connect("后来的人")?;
    let turned_away = late.wait_for(deadline(REPLY), room.alive(), |_| true);
    let refused = matches!(&turned_away, Ok((_, line)) if is_error(line) && line.contains('满'));
    let closed = refused
        && matches!(
            late.read_to_close(deadline(REPLY), || true).ending,
            ReadEnding::Closed | ReadEnding::Error(_)
        );
    if !closed {
        let got = late.transcript(4);
        return Err(room.trouble(
            Failure::new("聊天室满了,新来的人却没有被请走")
                .expected(format!(
                    "用 --max-clients {DOOR_SEATS} 启动;alice、bob、dave 已经占了 3 个座位,\
                     第 4 个连接收到一行「! 聊天室已满,请稍后再来」(以「! 」开头、带着「满」),然后连接被关闭"
                ))
                .actual(if refused {
                    format!("{got}\n(收到了那一行,连接却一直开着)")
                } else {
                    got
                })
                .hint(
                    "连接数要有上限,连还没报昵称的也算:否则几百个一言不发的连接就能把文件描述符用光,\
                     新来的人永远等不来欢迎语。accept 之后先数一数:满了就回一行「! …」,关掉连接,不开线程。",
                )
                .read("门口：满员、不报昵称的人和用光的文件描述符")
                .reproduce(REPRODUCE),
        ));
    }

    // 满员的时候,里面的人照常聊天。
    let text = "人满了也能说话";
    room.send(&bob, text)?;
    let expected = said("bob", text);
    room.expect(
        &mut alice,
        &format!("bob 在满员时说的「{text}」"),
        &format!("一行「{expected}」"),
        |line| line == expected,
        "满员只影响新来的人,已经在里面的人要照常聊天。",
    )?;

    // dave 走了,空出一个座位,给一个一句话也不说的人。
    room.send(&dave, "/quit")?;
    let _ = dave.read_to_close(deadline(REPLY), room.alive());
    let (mut silent, silent_since) = room.take_free_seat("不说话的人")?;

    // 不说话的人,到时被断开(先收到一行「! …」)。
    let limit = silent_since + nick_timeout + scaled(SLACK);
    let gone = silent.read_to_close(limit, room.alive());
    let waited = silent_since.elapsed();
    let told = gone.before.iter().any(|line| is_error(line));
    if !matches!(gone.ending, ReadEnding::Closed | ReadEnding::Error(_)) || !told {
        return Err(room.trouble(
            Failure::new("一直不报昵称的连接,到时没有被断开")
                .expected(format!(
                    "用 --nick-timeout {seconds} 启动;连上以后一句话也不说的人,{seconds} 秒后收到一行\
                     「! 太久没有报上昵称,再见」(以「! 」开头),然后连接被关闭"
                ))
                .actual(format!(
                    "{}\n(等了 {:.1} 秒,{})",
                    silent.transcript(4),
                    waited.as_secs_f64(),
                    if told { "连接还开着" } else { "没有收到「! …」" }
                ))
                .hint(
                    "报昵称要有时限,而且是整个报昵称的过程的时限,不是每一次 read 的:\
                     set_read_timeout 只管一次 read,每隔一会儿发一个字节的人能一直占着座位。\
                     每次 read 之前,把读超时设成「离截止时间还剩多久」。",
                )
                .read("第 6 步：问昵称")
                .reproduce(REPRODUCE),
        ));
    }
    if waited < nick_timeout / 2 {
        return Err(Failure::new("还没到报昵称的时限,连接就被断开了")
            .expected(format!(
                "用 --nick-timeout {seconds} 启动:连上以后有 {seconds} 秒报昵称"
            ))
            .actual(format!(
                "连上 {:.2} 秒就被断开了\n{}",
                waited.as_secs_f64(),
                silent.transcript(4)
            ))
            .hint("时限要用 --nick-timeout 给的秒数,从连上的那一刻算起。")
            .read("第 6 步：问昵称")
            .reproduce(REPRODUCE));
    }

    // 座位又空出来了:新来的人进得来。
    let (carol, _) = room.take_free_seat("carol")?;
    room.send(&carol, "carol")?;
    let mut carol = carol;
    room.expect(
        &mut carol,
        "carol 的欢迎语",
        "一行以「* 」开头、带着 carol 的欢迎语",
        |line| is_error(line) || (line.starts_with("* ") && line.contains("carol")),
        "",
    )
    .and_then(|(_, line)| {
        if is_error(&line) {
            Err(Failure::new("空出来的座位,新来的人却进不来")
                .expected("一行以「* 」开头、带着 carol 的欢迎语")
                .actual(carol.transcript(4))
                .hint("连接的线程结束时(不管是怎么结束的),要把它占的座位还回去。"))
        } else {
            Ok(())
        }
    })
}
