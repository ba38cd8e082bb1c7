//! 第 6 课的第 6 项:一个从来不读消息的人拖不住别人;「跟不上」按时间判断,读消息的人不会被请走。

use super::*;

/// 第 6 项检查里,alice 说的每一句大约多长。
const FLOOD_BYTES: usize = 1000;

/// 第 6 项检查里,alice 一口气说多少句:合起来要远远超过内核给一个连接的发送缓冲区
/// (Linux 上它会自动长大,最大是 tcp_wmem 的第三个数,通常 4 MiB),
/// 否则「直接 write_all」的服务器把话都塞进缓冲区,就看不出它会卡住了。
fn flood_lines() -> usize {
    let most_buffered = std::fs::read_to_string("/proc/sys/net/ipv4/tcp_wmem")
        .ok()
        .and_then(|s| s.split_whitespace().nth(2)?.parse::<usize>().ok())
        .unwrap_or(4 << 20);
    (2 * most_buffered / FLOOD_BYTES).max(8000)
}

/// 第 6 项检查用的写超时(课本:`--write-timeout`,默认 5 秒):评分时用 2 秒,检查快一些。
const WRITE_TIMEOUT: Duration = Duration::from_secs(2);

/// 第 6 项检查里,bob 在 alice 开始刷屏时先「忙」这么久(故障注入):他的信箱会满,
/// 但这远远短于写超时,他是一个读消息的人,不能被请走。
const BOB_BUSY: Duration = Duration::from_millis(300);

/// 一行是不是「`nick` 被请出去了/离开了」的通知。
fn gone_notice(line: &str, nick: &str) -> bool {
    notice_about(line, nick, "跟不上") || notice_about(line, nick, "离开")
}

pub(super) fn a_slow_client_does_not_stall_the_room(session: &mut Session) -> Result<(), Failure> {
    let write_timeout = scaled(WRITE_TIMEOUT);
    let seconds = write_timeout.as_secs().max(1).to_string();
    let server = session.start_server_as(&["server"], &["--write-timeout", &seconds])?;
    let mut room = Room { server };
    let alice = room.join("alice")?;
    let mut bob = room.join("bob")?;
    // slow 报上昵称,然后再也不读:它的接收缓冲区很小,很快就满了。
    let slow = ChatPeer::connect_slow(room.server.addr, "slow", deadline(STARTUP)).map_err(|err| {
        room.trouble(
            Failure::new(format!("slow 连不上服务器 {}", room.server.addr))
                .expected("服务器一直在 accept 新的连接")
                .actual(crate::tcp::describe_io_error(&err))
                .hint("前面的人都连上了,这一个却连不上:服务器的主线程是不是卡住了,没有回去 accept?"),
        )
    })?;
    room.send(&slow, "slow")?;
    room.expect(
        &mut bob,
        "slow 进入聊天室的通知",
        "一行以「* 」开头、带着 slow 和「进入」的通知",
        |line| notice_about(line, "slow", "进入"),
        JOIN_HINT,
    )?;

    let flood = flood_lines();
    let line = |i: usize| format!("{i:05} {}", "话".repeat(FLOOD_BYTES / 3));
    // 房间最多停顿一个写超时(slow 的信箱满了,大家等他,等够了就请他走),评分器再多等 SLACK。
    let stall = write_timeout + scaled(SLACK);
    let (sent, heard) = std::thread::scope(|scope| {
        // alice 一口气说完,不等任何人:服务器读她多快,由服务器决定(背压)。
        // 返回她说出了几句,以及是不是因为说不出去才停下的。
        let talker = scope.spawn(|| -> (usize, bool) {
            for i in 0..flood {
                // 服务器停顿的时候她会等;总共最多等这么久。
                if alice.send_line(&line(i), deadline(stall * 4)).is_err() {
                    return (i, true);
                }
            }
            (flood, false)
        });
        // 故障注入:bob 开头忙了一小会儿,没有读。
        crate::tcp::stall(BOB_BUSY);
        let heard = listen_to_flood(&mut bob, flood, &line, stall);
        if !matches!(heard, Heard::All { .. }) {
            // bob 不再听了,alice 也就不用再说了:她可能正卡在发送上(服务器不读她了),
            // 关闭她的发送方向,让她马上停下。
            alice.stop_sending();
        }
        let sent = talker.join().unwrap_or((0, false));
        (sent, heard)
    });

    let slow_gone = match heard {
        Heard::All { slow_gone } => slow_gone,
        Heard::Stalled { got, ending } => {
            let alice_note = match sent {
                (n, true) => format!("alice 说到第 {n} 句就说不出去了:服务器不再读她的连接"),
                (n, false) if n < flood => format!("alice 说了 {n} 句"),
                _ => "alice 的每一句都说出去了".to_owned(),
            };
            return Err(room.trouble(
                Failure::new("一个不读消息的人,让别人也收不到消息了")
                    .expected(format!(
                        "slow 一直不读消息;alice 一口气说了 {flood} 句(每句约 {FLOOD_BYTES} 字节)。\
                         房间最多为 slow 停顿一个写超时({} 秒,评分时用 --write-timeout {seconds} 启动),\
                         然后 slow 被请出去,bob 按顺序收到每一句",
                        write_timeout.as_secs()
                    ))
                    .actual(format!("bob 只收到了前 {got} 句,{ending}。{alice_note}"))
                    .hint(
                        "广播时直接对每个连接 write_all,遇到一个不读消息的人就会卡住:他的接收缓冲区满了,\
                         write_all 就一直等,广播停在他这里,后面的人谁也收不到,说话人的线程也卡住了。\
                         办法:每个人一个写线程和一个按字节设上限的信箱;广播只是把一行放进信箱。\
                         信箱满了,说话人可以等一等(背压),但最多等一个写超时;写线程也设写超时\
                         (set_write_timeout)。等够了还写不进去,这个人就是跟不上,请他离开。",
                    )
                    .read("一个不读消息的人"),
            ));
        }
        Heard::Kicked { got, how } => {
            return Err(room.trouble(
                Failure::new("bob 一直在读消息,却被请出了聊天室")
                    .expected(format!(
                        "bob 一直在读(只在开头忙了 {} 毫秒),无论 alice 说得多快,他都不会被请走",
                        BOB_BUSY.as_millis()
                    ))
                    .actual(format!(
                        "bob 收到了前 {got} 句,{how}\n{}",
                        bob.transcript(4)
                    ))
                    .hint(
                        "「跟不上」要按时间判断:一个人的连接连续一个写超时都写不进去,才是跟不上。\
                         按「信箱里攒了多少行」判断是错的:一阵刷屏会在他的写线程来得及写之前就把\
                         任何固定大小的信箱填满,读得好好的人也被请走了。信箱满了,让说话的人等一等\
                         (背压),而不是请读消息的人走。",
                    )
                    .read("一个不读消息的人"),
            ));
        }
    };

    // slow 从来不读,他的连接早就写不进去了:一个写超时之后,他该被请出去,别人收到通知。
    if !slow_gone {
        let waited = bob.wait_for(deadline(stall), room.alive(), |l| gone_notice(l, "slow"));
        if let Err(missed) = waited {
            let ending = match missed.ending {
                ReadEnding::Closed => "然后服务器关闭了 bob 的连接".to_owned(),
                ReadEnding::Error(err) => format!("然后{err}"),
                _ => format!("又等了 {} 秒也没有", stall.as_secs()),
            };
            return Err(room.trouble(
                Failure::new("一个从来不读消息的人,一直没有被请出聊天室")
                    .expected(format!(
                        "slow 一直不读;他的连接连续 {} 秒(--write-timeout {seconds})写不进去以后,\
                         服务器请他离开,其他人收到「* slow 跟不上消息,已被请出聊天室」\
                         (一行以「* 」开头、带着 slow 和「跟不上」或「离开」)",
                        write_timeout.as_secs()
                    ))
                    .actual(format!(
                        "bob 按顺序收到了 alice 的全部 {flood} 句,却没有收到 slow 被请出去的通知,{ending}\n{}",
                        bob.transcript(3)
                    ))
                    .hint(
                        "没有上限的信箱(mpsc::channel)不会卡住房间,却会把跟不上的人的消息越攒越多,\
                         直到内存耗尽。写线程要设写超时(set_write_timeout):一次写连续那么久写不进去,\
                         就放弃这个人,关掉他的连接,告诉其他人他跟不上了。信箱也要按字节设上限。",
                    )
                    .read("一个不读消息的人")
                    .reproduce(REPRODUCE),
            ));
        }
    }
    // 屏障:名单里还有 alice 和 bob,没有 slow 了。
    room.send(&bob, "/list")?;
    let (_, list) = room.expect(
        &mut bob,
        "「/list」的回复",
        "一行「* 在线 2 人: alice, bob」",
        is_list,
        "评分器用 /list 确认名单:只回给发命令的人一行「* 在线 N 人: 昵称, 昵称」。",
    )?;
    if let Some((problem, hint)) = list_problem(&list, &["alice", "bob"], &["slow"], "bob") {
        return Err(room.trouble(
            Failure::new(format!("slow 被请出去以后,「/list」的名单不对:{problem}"))
                .expected("一行「* 在线 2 人: alice, bob」:slow 已经不在了,alice 和 bob 都还在")
                .actual(format!("bob 收到「{}」", show_text(&list)))
                .hint(hint)
                .read("一个不读消息的人")
                .reproduce(REPRODUCE),
        ));
    }
    drop(slow);
    Ok(())
}

/// bob 听 alice 刷屏的结果。
enum Heard {
    /// 每一句都按顺序收到了;`slow_gone`:其间收到了 slow 被请走的通知。
    All { slow_gone: bool },
    /// 收到 `got` 句以后,停顿得太久(或者收到的不对)。
    Stalled { got: usize, ending: String },
    /// bob 自己被请走了。
    Kicked { got: usize, how: String },
}

/// bob 一句一句地收 alice 的话,每一句最多等 `stall`。
fn listen_to_flood(
    bob: &mut ChatPeer,
    flood: usize,
    line: &dyn Fn(usize) -> String,
    stall: Duration,
) -> Heard {
    let mut slow_gone = false;
    for got in 0..flood {
        match bob.wait_for(deadline(stall), || true, |l| l.starts_with("[alice] ")) {
            Ok((before, l)) => {
                slow_gone |= before.iter().any(|b| gone_notice(b, "slow"));
                if let Some(kick) = before.iter().find(|b| gone_notice(b, "bob")) {
                    return Heard::Kicked {
                        got,
                        how: format!("然后收到「{}」", show_text(kick)),
                    };
                }
                if l != said("alice", &line(got)) {
                    return Heard::Stalled {
                        got,
                        ending: format!("第 {} 句不对:「{}」", got + 1, show_text(&l)),
                    };
                }
            }
            Err(missed) => {
                return match missed.ending {
                    ReadEnding::Closed => Heard::Kicked {
                        got,
                        how: "然后服务器关闭了 bob 的连接".to_owned(),
                    },
                    ReadEnding::Error(err) => Heard::Kicked {
                        got,
                        how: format!("然后{err}"),
                    },
                    _ => Heard::Stalled {
                        got,
                        ending: format!("之后 {} 秒内再也没有收到", stall.as_secs()),
                    },
                };
            }
        }
    }
    Heard::All { slow_gone }
}
