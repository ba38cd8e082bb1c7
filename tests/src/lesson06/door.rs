//! 第 6 课的第 9 项:门口。满员时新来的人被请走;不报昵称的人(一句话不说的,和一个字节一个字节
//! 发、永远报不完的)到时被断开;有人走了,座位空出来。

use super::*;

/// 门口检查用的上限和时限(课本:`--max-clients`、`--nick-timeout`)。
const DOOR_SEATS: &str = "3";
const NICK_TIMEOUT: Duration = Duration::from_secs(1);
/// 报昵称报得极慢的人,每隔这么久发一个字节:远远短于报昵称的时限。
const TRICKLE: Duration = Duration::from_millis(300);

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
    let dave = room.join("dave")?;

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

    // dave 和 bob 走了,空出两个座位:一个给一句话也不说的人,一个给每隔一会儿才发一个字节、
    // 永远报不完昵称的人。两个人都要在 --nick-timeout 秒到的时候被断开,不早也不晚太多。
    for mut leaver in [dave, bob] {
        room.send(&leaver, "/quit")?;
        let _ = leaver.read_to_close(deadline(REPLY), room.alive());
    }
    let (mut silent, silent_since) = room.take_free_seat("不说话的人")?;
    let (mut slowpoke, slowpoke_since) = room.take_free_seat("一个字一个字报的人")?;
    let limit = |since: Instant| since + nick_timeout + scaled(SLACK);
    let ((silent_gone, silent_waited), (slowpoke_gone, slowpoke_waited)) =
        std::thread::scope(|scope| {
            let slowpoke = scope.spawn(|| {
                let gone = slowpoke.trickle_to_close(TRICKLE, limit(slowpoke_since));
                (gone, slowpoke_since.elapsed())
            });
            let gone = silent.read_to_close(limit(silent_since), || true);
            let silent = (gone, silent_since.elapsed());
            let slowpoke = slowpoke.join().unwrap_or_else(|_| {
                let gone = Missed {
                    before: Vec::new(),
                    ending: ReadEnding::GaveUp,
                };
                (gone, Duration::ZERO)
            });
            (silent, slowpoke)
        });

    // 不说话的人,到时被断开(先收到一行「! …」)。
    let told = silent_gone.before.iter().any(|line| is_error(line));
    let closed = |ending: &ReadEnding| matches!(ending, ReadEnding::Closed | ReadEnding::Error(_));
    if closed(&silent_gone.ending) && !told {
        return Err(room.trouble(
            Failure::new("一直不报昵称的连接被断开了,之前却没有收到「! …」")
                .expected(format!(
                    "用 --nick-timeout {seconds} 启动;连上以后一句话也不说的人,{seconds} 秒后先收到一行\
                     「! 太久没有报上昵称,再见」(以「! 」开头),然后连接被关闭"
                ))
                .actual(format!(
                    "{}\n(等了 {:.1} 秒,连接被关闭了)",
                    silent.transcript(4),
                    silent_waited.as_secs_f64(),
                ))
                .hint(
                    "到时断开他之前,先告诉他为什么:回一行「! 太久没有报上昵称,再见」。\
                     写完这一行再关闭连接(先写、后 shutdown),他才读得到。",
                )
                .read("限制")
                .reproduce(REPRODUCE),
        ));
    }
    if !closed(&silent_gone.ending) {
        return Err(room.trouble(
            Failure::new("一直不报昵称的连接,到时没有被断开")
                .expected(format!(
                    "用 --nick-timeout {seconds} 启动;连上以后一句话也不说的人,{seconds} 秒后收到一行\
                     「! 太久没有报上昵称,再见」(以「! 」开头),然后连接被关闭"
                ))
                .actual(format!(
                    "{}\n(等了 {:.1} 秒,{})",
                    silent.transcript(4),
                    silent_waited.as_secs_f64(),
                    if told {
                        "收到了「! …」,连接却还开着"
                    } else {
                        "连接还开着,也没有收到「! …」"
                    }
                ))
                .hint(
                    "一句话也不说的人一直占着座位:报昵称没有时限,或者没有用上 --nick-timeout 给的秒数;\
                     也可能只在收到字节以后才看时间,一个字节也不发的人就永远不会被看到。\
                     时限要管整个报昵称的过程:每次 read 之前,把读超时设成「离截止时间还剩多久」。",
                )
                .read("第 6 步：问昵称")
                .reproduce(REPRODUCE),
        ));
    }
    // 每隔一会儿发一个字节的人:每次 read 都等得到数据,时限却是整个报昵称的过程的。
    if !closed(&slowpoke_gone.ending) {
        return Err(room.trouble(
            Failure::new("每隔一会儿发一个字节、永远报不完昵称的连接,到时没有被断开")
                .sent_note(format!(
                    "连上以后每隔 {} 毫秒发一个字节「x」,从不发换行",
                    TRICKLE.as_millis()
                ))
                .expected(format!(
                    "用 --nick-timeout {seconds} 启动;连上 {seconds} 秒还没报上昵称,连接就被关闭\
                     (一句话不说的人被按时断开了,这一个却没有)"
                ))
                .actual(format!(
                    "{}\n(等了 {:.1} 秒,连接还开着)",
                    slowpoke.transcript(4),
                    slowpoke_waited.as_secs_f64()
                ))
                .hint(
                    "时限管的是整个报昵称的过程,不是每一次 read:set_read_timeout 只管一次 read,\
                     每隔一会儿发一个字节的人,每次 read 都不超时,就能一直占着座位。\
                     每次 read 之前,把读超时设成「离截止时间还剩多久」。",
                )
                .read("第 6 步：问昵称")
                .reproduce(REPRODUCE),
        ));
    }
    for (who, waited, transcript) in [
        ("一句话也不说的人", silent_waited, silent.transcript(4)),
        (
            "一个字节一个字节发的人",
            slowpoke_waited,
            slowpoke.transcript(4),
        ),
    ] {
        if waited < nick_timeout / 2 {
            return Err(Failure::new("还没到报昵称的时限,连接就被断开了")
                .expected(format!(
                    "用 --nick-timeout {seconds} 启动:连上以后有 {seconds} 秒报昵称"
                ))
                .actual(format!(
                    "{who}连上 {:.2} 秒就被断开了\n{transcript}",
                    waited.as_secs_f64(),
                ))
                .hint("时限要用 --nick-timeout 给的秒数,从连上的那一刻算起。")
                .read("第 6 步：问昵称")
                .reproduce(REPRODUCE));
        }
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
