//! 第 6 课的评分器:多人聊天室(服务器 + 双线程客户端)。
//!
//! 规格(与 book/src/06-chat.md 一致):
//! - 一个程序,两个子命令:`server`(默认绑定 127.0.0.1:2023)和 `client`;
//! - 一行一条,UTF-8。客户端连上后发的第一行是昵称(1 到 16 个字符,字母、汉字、数字、`_`、`-`);
//!   服务器回 `* …昵称…`(欢迎)或 `! 原因`(不合法、重名,接着等下一个昵称);
//! - 之后,普通的一行 → 其他人收到 `[昵称] 文字`,说话人自己收不到;进入、离开、改名的通知
//!   是 `* …` 开头的一行,发给其他人;`/list` 回 `* 在线 N 人: 昵称, …`;`/nick 新昵称`;
//!   `/msg 昵称 内容` → 对方收到 `[发信人 悄悄对你说] 内容`;`/quit`;其他 `/…` 回 `! …`;
//! - 一行最多 1024 字节,超过的人被断开;控制字符和看不见的格式字符(Cf、Zl、Zp)不能原样转发;
//! - 跟不上按时间判断:连续 `--write-timeout` 秒收不下任何东西的人被请走,其他人收到
//!   `* 昵称 跟不上…`;读消息的人不管别人说得多快都不会被请走(背压);
//! - 最多 `--max-clients` 个连接,满了回 `! …满…` 并关闭;`--nick-timeout` 秒内不报昵称就被断开;
//! - 客户端:`client --port P --nick 昵称`,一个线程读键盘发送、一个线程收消息打印,
//!   断线后隔一会儿重连并报上最后的昵称,Ctrl-D 或 `/quit` 退出(退出码 0)。
//!
//! 每一项检查都用好几个评分器自己的连接同时和服务器对话;测客户端时,评分器扮演服务器。
//! 「某人没有收到回声」这种「没有发生」的事,用一道屏障来确认:让他发一个 `/list`,
//! 服务器按顺序处理同一个人的行,所以 `/list` 的回复之前没出现的东西,以后也不会出现了。

use std::time::{Duration, Instant};

use crate::chat::{ChatPeer, Missed};
use crate::failure::Failure;
use crate::grader::{
    EXIT, Lesson, REPLY, STARTUP, Server, Session, Step, deadline, describe_exit, diagnose_stderr,
    scaled,
};
use crate::program::Program;
use crate::tcp::{ReadEnding, TcpFakeServer};
use crate::text::show_text;

pub const LESSON: Lesson = Lesson {
    number: "06",
    title: "多人聊天室",
    chapter: "book/src/06-chat.md",
    rules: &[],
    server_keeps_running: true,
    steps: &[
        Step {
            name: "服务器启动后在第一行打印实际绑定的地址",
            points: 1,
            check: prints_its_address,
        },
        Step {
            name: "两个人聊天:进入有通知,一句话发给对方,不发回给自己",
            points: 2,
            check: two_people_talk,
        },
        Step {
            name: "三个人同时说话:每人恰好收到另外两人的话,而且顺序不乱",
            points: 2,
            check: three_people_talk_at_once,
        },
        Step {
            name: "有人突然断开(关闭、重置、没报昵称就走),其他人收到通知,聊天照常",
            points: 2,
            check: vanishing_clients_are_removed,
        },
        Step {
            name: "昵称:太长、有空格或控制字符、和别人重名,都要换一个",
            points: 1,
            check: nicknames_are_checked,
        },
        Step {
            name: "一个从来不读消息的人拖不住别人:他在写超时之后被请走,读消息的人一个也不会被请走",
            points: 2,
            check: a_slow_client_does_not_stall_the_room,
        },
        Step {
            name: "命令:/list、/nick、/msg、/help、未知命令、/quit",
            points: 2,
            check: commands_work,
        },
        Step {
            name: "坏的输入:坏的 UTF-8、ANSI 转义序列、超长的一行,都不会搞坏聊天室",
            points: 2,
            check: bad_input_is_contained,
        },
        Step {
            name: "门口:满员时新来的人收到「! …」并被断开;不报昵称的连接到时被断开;里面的人照常聊天",
            points: 1,
            check: the_door_is_guarded,
        },
        Step {
            name: "客户端:连上后报昵称,把键盘上打的一行发出去",
            points: 1,
            check: client_sends_what_is_typed,
        },
        Step {
            name: "客户端:不打字的时候,也能马上打印别人发来的消息",
            points: 2,
            check: client_prints_while_idle,
        },
        Step {
            name: "客户端:服务器断开后,等一会儿重连,并报上最后用的昵称",
            points: 2,
            check: client_reconnects,
        },
        Step {
            name: "客户端:Ctrl-D 或 /quit 干净地退出",
            points: 1,
            check: client_quits_cleanly,
        },
        Step {
            name: "客户端:聊天室满了(服务器回「! …」并关闭连接),说清楚原因,退出码不是 0",
            points: 1,
            check: client_explains_a_full_room,
        },
    ],
};

/// 别人说的一句话,在收到的人那里的样子。
pub fn said(nick: &str, text: &str) -> String {
    format!("[{nick}] {text}")
}

/// 一行是不是关于 `nick` 的、含有 `word` 的通知(`* …`)。
fn notice_about(line: &str, nick: &str, word: &str) -> bool {
    line.starts_with("* ") && line.contains(nick) && line.contains(word)
}

/// 一行是不是只给自己的错误提示(`! …`)。
fn is_error(line: &str) -> bool {
    line.starts_with("! ")
}

/// 一行是不是 `/list` 的回复(`* 在线 N 人: …`)。
fn is_list(line: &str) -> bool {
    line.starts_with("* 在线")
}

/// 怎么用 nc 手动重现。
const REPRODUCE: &str = "终端 1: cargo run -p lesson-06 -- server\n\
     终端 2: nc 127.0.0.1 2023    (先输入昵称 alice,回车)\n\
     终端 3: nc 127.0.0.1 2023    (先输入昵称 bob,回车)\n\
     然后在终端 2 和 3 里轮流说话,看对方收到了什么。";

/// 行里有没有会被终端当成控制指令的字符(换行已经去掉了)。
fn has_control(line: &str) -> bool {
    line.chars().any(char::is_control)
}

/// Unicode 的格式字符(Cf)、行分隔符(Zl)和段分隔符(Zp):看不见,却能改变一行的样子。
fn is_invisible_format(c: char) -> bool {
    const RANGES: [(u32, u32); 21] = [
        (0x00AD, 0x00AD),
        (0x0600, 0x0605),
        (0x061C, 0x061C),
        (0x06DD, 0x06DD),
        (0x070F, 0x070F),
        (0x0890, 0x0891),
        (0x08E2, 0x08E2),
        (0x180E, 0x180E),
        (0x200B, 0x200F),
        (0x2028, 0x202E),
        (0x2060, 0x2064),
        (0x2066, 0x206F),
        (0xFEFF, 0xFEFF),
        (0xFFF9, 0xFFFB),
        (0x110BD, 0x110BD),
        (0x110CD, 0x110CD),
        (0x13430, 0x1343F),
        (0x1BCA0, 0x1BCA3),
        (0x1D173, 0x1D17A),
        (0xE0001, 0xE0001),
        (0xE0020, 0xE007F),
    ];
    RANGES
        .iter()
        .any(|&(low, high)| (low..=high).contains(&(c as u32)))
}

/// 显示一行文字,控制字符和看不见的格式字符都写成 `\u{…}`。
fn show_invisible(line: &str) -> String {
    line.chars()
        .map(|c| {
            if is_invisible_format(c) {
                format!("\\u{{{:x}}}", c as u32)
            } else {
                show_text(&c.to_string())
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------
// 服务器这一半:评分器开好几个连接,扮演聊天的人。
// ---------------------------------------------------------------------------

/// 一个正在被测的聊天室服务器,以及和它打交道的常用动作。
struct Room {
    server: Server,
}

impl Room {
    fn open(session: &mut Session) -> Result<Room, Failure> {
        let server = session.start_server_as(&["server"], &[])?;
        Ok(Room { server })
    }

    /// 服务器还「好好的」:没有退出,也没有哪个线程 panic。否则就不用再等了。
    fn alive(&mut self) -> impl FnMut() -> bool + '_ {
        || {
            self.server.program.exited().is_none()
                && !self.server.program.output().stderr().contains("panicked")
        }
    }

    /// 连上服务器,但还不报昵称。
    fn connect(&mut self, nick: &str) -> Result<ChatPeer, Failure> {
        ChatPeer::connect(self.server.addr, nick, deadline(STARTUP)).map_err(|err| {
            self.trouble(
                Failure::new(format!("{nick} 连不上服务器 {}", self.server.addr))
                    .actual(crate::tcp::describe_io_error(&err))
                    .hint("服务器打印了地址,却不接受连接:确认用的是 TcpListener::bind,并且在循环里 accept。"),
            )
        })
    }

    /// 连上服务器、报上昵称,等到欢迎语(`* …昵称…`)。
    fn join(&mut self, nick: &str) -> Result<ChatPeer, Failure> {
        let mut peer = self.connect(nick)?;
        self.send(&peer, nick)?;
        let welcome = peer.wait_for(deadline(REPLY), self.alive(), |line| {
            is_error(line) || (line.starts_with("* ") && line.contains(nick))
        });
        match welcome {
            Ok((_, line)) if is_error(&line) => Err(Failure::new(format!("昵称 {nick} 被拒绝了"))
                .sent(format!("{nick}\n").as_bytes(), format!("{}(连上以后发的第一行)", self.server.addr))
                .expected(format!("一行以「* 」开头、带着 {nick} 的欢迎语"))
                .actual(peer.transcript(6))
                .hint("这是一个合法的昵称(1 到 16 个字母、汉字、数字、_ 或 -),也没有人在用。\
                       看看检查昵称的代码:是不是把行尾的换行(或 \\r)也算进了昵称?")),
            Ok(_) => {
                // 收到欢迎语,不一定已经在名单里了(有的服务器先欢迎、再加进名单)。
                // 让他发一个 /list:服务器处理它的时候,他一定已经在名单里了。
                // 这样紧接着进来的人的通知,他一定收得到,评分不靠运气。
                self.barrier(&mut peer)?;
                Ok(peer)
            }
            Err(missed) => Err(self.missed(
                &peer,
                missed,
                &format!("昵称 {nick} 的欢迎语"),
                &format!("一行以「* 」开头、带着 {nick} 的欢迎语,比如「* 你好,{nick}!现在在线 1 人: {nick}」"),
                "连上以后,客户端发的第一行就是昵称。服务器读到这一行、检查合法、没人重名以后,\
                 要先回一行以「* 」开头的欢迎语(里面有昵称)。别忘了写完要带换行,别人才知道一行结束了。",
            )
            .sent(format!("{nick}\n").as_bytes(), format!("{}(连上以后发的第一行)", self.server.addr))),
        }
    }

    /// `peer` 发一行。
    fn send(&mut self, peer: &ChatPeer, line: &str) -> Result<(), Failure> {
        self.send_bytes(peer, format!("{line}\n").as_bytes())
    }

    /// `peer` 发一段原样的字节(坏的 UTF-8 之类)。
    fn send_bytes(&mut self, peer: &ChatPeer, bytes: &[u8]) -> Result<(), Failure> {
        peer.send_bytes(bytes, deadline(REPLY)).map_err(|err| {
            self.trouble(
                Failure::new(format!("{} 发不出去", peer.nick))
                    .sent(
                        bytes,
                        format!("{}(从 {} 的连接发出)", self.server.addr, peer.nick),
                    )
                    .expected("服务器一直读每个人发来的行")
                    .actual(crate::tcp::describe_io_error(&err))
                    .hint("服务器关闭了这个连接,或者一直不读它发来的东西。")
                    .reproduce(REPRODUCE),
            )
        })
    }

    /// 等 `peer` 收到一行满足 `wanted` 的文字,返回在它之前收到的行。
    fn expect(
        &mut self,
        peer: &mut ChatPeer,
        what: &str,
        expected: &str,
        wanted: impl Fn(&str) -> bool,
        hint: &str,
    ) -> Result<(Vec<String>, String), Failure> {
        let waited = peer.wait_for(deadline(REPLY), self.alive(), wanted);
        waited.map_err(|missed| self.missed(peer, missed, what, expected, hint))
    }

    /// 没等到时的失败:谁没收到什么,他都收到了什么,连接和服务器怎么样了。
    fn missed(
        &mut self,
        peer: &ChatPeer,
        missed: Missed,
        what: &str,
        expected: &str,
        hint: &str,
    ) -> Failure {
        let panicked = self.server.program.output().stderr().contains("panicked");
        let ending = match missed.ending {
            ReadEnding::Closed => "然后服务器关闭了这个连接".to_owned(),
            ReadEnding::Error(err) => format!("然后{err}"),
            ReadEnding::GaveUp | ReadEnding::Found if panicked => {
                "服务器的一个线程 panic 了,评分器不再等下去".to_owned()
            }
            ReadEnding::GaveUp | ReadEnding::Found => {
                format!("等了 {} 秒,连接还开着", scaled(REPLY).as_secs())
            }
        };
        // 「没有收到」后面紧跟英文昵称时,中间空一格:「没有收到 dave 离开的通知」。
        let space = if what.starts_with(|c: char| c.is_ascii_alphanumeric()) {
            " "
        } else {
            ""
        };
        self.trouble(
            Failure::new(format!("{} 没有收到{space}{what}", peer.nick))
                .expected(expected)
                .actual(format!("{}\n({ending})", peer.transcript(8)))
                .hint(hint)
                .reproduce(REPRODUCE),
        )
    }

    /// 发一个 `/list` 当屏障,返回 `/list` 的回复之前收到的行。
    ///
    /// 服务器按顺序处理同一个人发来的行:`/list` 的回复到了,这个人之前说的话引起的一切
    /// (比如错误地发回给他自己的回声)都已经到了。
    fn barrier(&mut self, peer: &mut ChatPeer) -> Result<Vec<String>, Failure> {
        self.send(peer, "/list")?;
        let (before, _) = self.expect(
            peer,
            "「/list」的回复",
            "一行以「* 在线」开头的在线名单,比如「* 在线 2 人: alice, bob」",
            is_list,
            "评分器用 /list 确认「该到的都到了」:服务器收到 /list,要只回给发命令的人一行\
             「* 在线 N 人: 昵称, 昵称」。",
        )?;
        Ok(before)
    }

    /// 服务器退出了,或者它的某个线程 panic 了:这比任何别的猜测都更可能是原因。
    fn trouble(&mut self, failure: Failure) -> Failure {
        if let Some(status) = self.server.program.exited() {
            let stderr = self.server.program.output().stderr();
            return failure
                .headline("聊天室服务器退出了")
                .actual(describe_exit(Some(status)))
                .hint(diagnose_stderr(&stderr));
        }
        // 走到了没写完的 todo!() 的线程,由评分器统一指出(grader::run),这里只管真正的 panic。
        let stderr = self.server.program.output().stderr();
        if stderr.contains("panicked") && !stderr.contains("not yet implemented") {
            return failure.hint(
                "服务器的一个线程 panic 了(见下面服务器的 stderr)。一个客户端出了问题(断开、\
                 发了坏数据),只应该让这个客户端离开:读写套接字的结果不要 unwrap,用 match 或 ? 处理。\
                 如果 panic 时那个线程正拿着 Mutex 的锁,锁会「中毒」,之后每个 lock().unwrap() 都会 panic,\
                 整个聊天室就瘫了。",
            );
        }
        failure
    }
}

fn prints_its_address(session: &mut Session) -> Result<(), Failure> {
    Room::open(session).map(drop)
}

fn two_people_talk(session: &mut Session) -> Result<(), Failure> {
    let mut room = Room::open(session)?;
    let mut alice = room.join("alice")?;
    let mut bob = room.join("bob")?;
    room.expect(
        &mut alice,
        "bob 进入聊天室的通知",
        "一行以「* 」开头、带着 bob 和「进入」的通知,比如「* bob 进入了聊天室」",
        |line| notice_about(line, "bob", "进入"),
        "有人报上昵称、进了聊天室以后,要告诉已经在里面的每一个人。",
    )?;

    // alice 说,bob 收到;bob 说,alice 收到;谁都收不到自己的话。
    talk(&mut room, &mut alice, &mut bob, "你好,bob!我是 alice")?;
    talk(&mut room, &mut bob, &mut alice, "你好 alice,我是 bob")
}

/// `speaker` 说一句,`listener` 要原样收到,`speaker` 自己不能收到。
fn talk(
    room: &mut Room,
    speaker: &mut ChatPeer,
    listener: &mut ChatPeer,
    text: &str,
) -> Result<(), Failure> {
    room.send(speaker, text)?;
    let expected = said(&speaker.nick, text);
    room.expect(
        listener,
        &format!("{} 说的「{text}」", speaker.nick),
        &format!("一行「{expected}」"),
        |line| line == expected,
        "一个人说的一句话,要原样(前面加上「[昵称] 」)发给聊天室里的其他每一个人。\
         服务器为每个客户端开一个线程读它发来的行;读到一行,就把它交给其他所有人。",
    )
    .map_err(|f| {
        f.sent(
            format!("{text}\n").as_bytes(),
            format!("服务器(从 {} 的连接发出)", speaker.nick),
        )
    })?;
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

fn three_people_talk_at_once(session: &mut Session) -> Result<(), Failure> {
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
                        None => (
                            "三个人同时说话时,有人收到了半行,或者粘在一起的两行",
                            format!(
                                "{me} 收到的这一行不是 {} 说的任何一句完整的话:半行,或者两行粘在了一起",
                                others[k]
                            ),
                            "客户端线程读到一行才广播一行:别把一次 read 读到的东西当作一行(TCP 是字节流),\
                             用 BufReader 的 read_until 读到换行为止;发出去的每一行都带上换行。",
                        ),
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

fn vanishing_clients_are_removed(session: &mut Session) -> Result<(), Failure> {
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
            "有人进了聊天室以后,要告诉已经在里面的每一个人。",
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
                 要把他从在线名单里删掉,再告诉其他人。读到错误也是「这个人走了」,不是「服务器出错了」。"
            ),
        )?;
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

/// 写超时之外,评分器再多等这么久,才认定「该发生的没有发生」:
/// 这样评分器的期限永远不会和程序自己的超时撞在一起。
const SLACK: Duration = Duration::from_secs(2);

/// 第 6 项检查里,bob 在 alice 开始刷屏时先「忙」这么久(故障注入):他的信箱会满,
/// 但这远远短于写超时,他是一个读消息的人,不能被请走。
const BOB_BUSY: Duration = Duration::from_millis(300);

/// 一行是不是「`nick` 被请出去了/离开了」的通知。
fn gone_notice(line: &str, nick: &str) -> bool {
    notice_about(line, nick, "跟不上") || notice_about(line, nick, "离开")
}

fn a_slow_client_does_not_stall_the_room(session: &mut Session) -> Result<(), Failure> {
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
        "有人进了聊天室以后,要告诉已经在里面的每一个人。",
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
    if list.contains("slow") || !list.contains("alice") || !list.contains("bob") {
        return Err(room.trouble(
            Failure::new("slow 被请出去以后,名单不对")
                .expected("一行「* 在线 2 人: alice, bob」:slow 已经不在了,alice 和 bob 都还在")
                .actual(format!("收到「{}」", show_text(&list)))
                .hint("请一个人离开时,要把他从名单里删掉,就像他自己离开一样。")
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

fn nicknames_are_checked(session: &mut Session) -> Result<(), Failure> {
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

fn commands_work(session: &mut Session) -> Result<(), Failure> {
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

fn bad_input_is_contained(session: &mut Session) -> Result<(), Failure> {
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
                show_invisible(&got),
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

fn the_door_is_guarded(session: &mut Session) -> Result<(), Failure> {
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

impl Room {
    /// 连上一个刚刚空出来的座位,等到服务器的问候,返回连接和连上的时刻。
    ///
    /// 有人刚走时,他的线程要一小会儿才让出座位:这时被请走(「! …满…」)就再试,有期限。
    fn take_free_seat(&mut self, nick: &str) -> Result<(ChatPeer, Instant), Failure> {
        let until = deadline(REPLY);
        loop {
            let mut peer = self.connect(nick)?;
            let since = Instant::now();
            let first = peer.wait_for(until, self.alive(), |_| true);
            match first {
                Ok((_, line)) if line.starts_with("* ") => return Ok((peer, since)),
                Ok((_, line)) if is_error(&line) && Instant::now() < until => continue,
                _ => {
                    return Err(self.trouble(
                        Failure::new("有人走了,座位却没有空出来")
                            .expected(format!("{nick} 连上以后收到一行以「* 」开头的问候"))
                            .actual(peer.transcript(4))
                            .hint("连接的线程结束时(不管是怎么结束的),要把它占的座位还回去。")
                            .read("门口：满员、不报昵称的人和用光的文件描述符")
                            .reproduce(REPRODUCE),
                    ));
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------
// 客户端这一半:评分器扮演服务器,替学员在键盘上打字。
// ---------------------------------------------------------------------------

/// 评分器扮演的聊天室服务器,和连上它的被测客户端。
struct FakeRoom {
    server: TcpFakeServer,
    client: Program,
    command: String,
}

impl FakeRoom {
    /// 启动被测客户端 `client --port P --nick 小红`,让它连上评分器。
    fn start(session: &mut Session, nick: &str) -> Result<FakeRoom, Failure> {
        let server = TcpFakeServer::bind();
        let port = server.addr().port().to_string();
        let args = ["client", "--port", &port, "--nick", nick];
        let client = session.spawn_interactive("客户端", &args)?;
        let command = format!("{} {}", session.name(), args.join(" "));
        Ok(FakeRoom {
            server,
            client,
            command,
        })
    }

    /// 等客户端连上来,最多等 `limit`。
    fn accept(&mut self, limit: Duration) -> Result<ChatPeer, Failure> {
        let client = &mut self.client;
        match self
            .server
            .accept(deadline(limit), || client.exited().is_none())
        {
            Some(conn) => Ok(ChatPeer::new(conn, "评分器扮演的服务器")),
            None => Err(self
                .failure("客户端没有连上评分器扮演的服务器")
                .expected(format!("客户端连上 {}", self.server.addr()))
                .actual(self.describe_client())
                .hint("客户端启动后要用 TcpStream::connect 连上 --host 和 --port 指定的服务器。")),
        }
    }

    /// 等客户端发来一行,要等于 `expected`。
    fn expect_line(
        &mut self,
        conn: &mut ChatPeer,
        expected: &str,
        hint: &str,
    ) -> Result<(), Failure> {
        let client = &mut self.client;
        let got = conn.wait_for(deadline(REPLY), || client.exited().is_none(), |_| true);
        match got {
            Ok((_, line)) if line == expected => Ok(()),
            Ok((_, line)) => Err(self
                .failure("客户端发来的一行不对")
                .expected(format!("一行「{}」", show_text(expected)))
                .actual(format!("收到「{}」", show_text(&line)))
                .hint(hint)),
            Err(missed) => {
                let ending = match missed.ending {
                    ReadEnding::Closed => "客户端关闭了连接".to_owned(),
                    ReadEnding::Error(err) => err,
                    _ => format!("{} 秒内什么也没收到", scaled(REPLY).as_secs()),
                };
                Err(self
                    .failure("没有收到客户端发来的一行")
                    .expected(format!("一行「{}」", show_text(expected)))
                    .actual(format!("{ending};客户端{}", self.describe_client()))
                    .hint(hint))
            }
        }
    }

    /// 替学员打一行字。
    fn type_line(&mut self, line: &str) -> Result<(), Failure> {
        self.client.type_line(line).map_err(|err| {
            self.failure("没法在客户端的键盘上打字")
                .actual(format!(
                    "写 stdin 失败({err});客户端{}",
                    self.describe_client()
                ))
                .hint("客户端不应该自己退出:它要一直从 stdin 读,直到 Ctrl-D 或 /quit。")
        })
    }

    /// 等客户端在 stdout 上打印出 `text`。颜色控制码不算数:评分器读的 stdout 不是终端。
    fn expect_printed(&mut self, text: &str, what: &str, hint: &str) -> Result<(), Failure> {
        // 去掉颜色以后出现了,也不用再等了:那是另一种错误,马上说出来。
        let seen = self.client.wait_stdout_until(deadline(REPLY), |out| {
            out.contains(text) || strip_ansi(out).contains(text)
        });
        match seen.and_then(|()| {
            if self.client.output().stdout().contains(text) {
                Ok(())
            } else {
                Err(crate::program::WaitError::Timeout)
            }
        }) {
            Ok(()) => Ok(()),
            Err(_) if strip_ansi(&self.client.output().stdout()).contains(text) => Err(self
                .failure("输出里有颜色控制码:stdout 不是终端时不要输出颜色")
                .expected(format!("stdout 上原样出现「{}」", show_text(text)))
                .actual(format!(
                    "去掉颜色控制码(\\x1b[…m)以后才有这一行:「{}」",
                    show_text(last_line_with(&self.client.output().stdout(), text))
                ))
                .hint(
                    "评分器、管道、重定向到文件时,stdout 不是终端,颜色控制码只会变成一堆乱码。\
                     用 std::io::IsTerminal 判断 stdout 是不是终端,再看 NO_COLOR 环境变量,\
                     然后 colored::control::set_override(要不要颜色);不要无条件地 set_override(true)。",
                )
                .read("第 9 步：连上服务器")),
            Err(_) => Err(self
                .failure(format!("客户端没有打印{what}"))
                .expected(format!("stdout 上出现「{}」", show_text(text)))
                .actual(format!(
                    "{} 秒内没有出现;客户端{}",
                    scaled(REPLY).as_secs(),
                    self.describe_client()
                ))
                .hint(hint)),
        }
    }

    /// 扮演服务器,完成进门的一问一答:问昵称,收到 `nick`,回欢迎语。
    fn greet(&mut self, conn: &mut ChatPeer, nick: &str, hint: &str) -> Result<(), Failure> {
        self.say(conn, "* 欢迎来到聊天室!请输入你的昵称")?;
        self.expect_line(conn, nick, hint)?;
        self.say(
            conn,
            &format!("* 你好,{nick}!现在在线 2 人: 小明, {nick}。输入 /help 查看命令"),
        )
    }

    /// 扮演服务器,给客户端发一行。
    fn say(&mut self, conn: &ChatPeer, line: &str) -> Result<(), Failure> {
        conn.send_line(line, deadline(REPLY)).map_err(|err| {
            self.failure("评分器扮演的服务器发不出去")
                .sent(format!("{line}\n").as_bytes(), "客户端")
                .actual(format!(
                    "{};客户端{}",
                    crate::tcp::describe_io_error(&err),
                    self.describe_client()
                ))
                .hint("客户端关闭了连接,或者一直不读。收消息的线程要一直读,直到连接断开。")
        })
    }

    fn describe_client(&mut self) -> String {
        match self.client.exited() {
            Some(status) => describe_exit(Some(status)),
            None => "还在运行".to_owned(),
        }
    }

    fn failure(&self, headline: impl Into<String>) -> Failure {
        Failure::new(headline).ran(&self.command).reproduce(
            "终端 1: cargo run -p lesson-06 -- server\n\
             终端 2: cargo run -p lesson-06 -- client --nick 小红\n\
             终端 3: nc 127.0.0.1 2023    (先输入昵称 小明,回车,然后说话)",
        )
    }
}

/// 去掉 ANSI 颜色控制码(`ESC [ 参数 字母`)。
fn strip_ansi(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' && chars.peek() == Some(&'[') {
            chars.next();
            // 参数和中间字节,直到一个 0x40–0x7E 的结束字节。
            for c in chars.by_ref() {
                if ('\u{40}'..='\u{7e}').contains(&c) {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// stdout 里去掉颜色以后含有 `text` 的那一行(原样,带着控制码)。
fn last_line_with<'a>(stdout: &'a str, text: &str) -> &'a str {
    stdout
        .lines()
        .rev()
        .find(|line| strip_ansi(line).contains(text))
        .unwrap_or_default()
}

/// 进门:连上、问昵称、欢迎。
fn client_joins(session: &mut Session, nick: &str) -> Result<(FakeRoom, ChatPeer), Failure> {
    let mut room = FakeRoom::start(session, nick)?;
    let mut conn = room.accept(STARTUP)?;
    room.greet(
        &mut conn,
        nick,
        "客户端连上以后,要先把 --nick 给的昵称作为第一行发给服务器(带换行)。",
    )?;
    Ok((room, conn))
}

fn client_sends_what_is_typed(session: &mut Session) -> Result<(), Failure> {
    let (mut room, mut conn) = client_joins(session, "小红")?;
    room.type_line("大家好,我是小红")?;
    room.expect_line(
        &mut conn,
        "大家好,我是小红",
        "键盘(stdin)上打的每一行,都要原样作为一行发给服务器:读一行 stdin,\
         write_all 到连接上,别忘了换行。",
    )
}

fn client_prints_while_idle(session: &mut Session) -> Result<(), Failure> {
    let (mut room, conn) = client_joins(session, "小红")?;
    // 学员没有打字(stdin 开着、没有输入),服务器发来了消息。
    let line = said("小明", "小红,在吗?");
    room.say(&conn, &line)?;
    room.expect_printed(
        &line,
        "服务器发来的消息",
        "没打字的时候,客户端也要能收消息。只用一个线程的话,它正卡在「读键盘」上,\
         谁也读不到连接上的消息。开两个线程:主线程读键盘、发送;另一个线程一直读连接、打印。",
    )
    .map_err(|f| f.read("两个线程"))?;
    let notice = "* 小刚 进入了聊天室";
    room.say(&conn, notice)?;
    room.expect_printed(
        notice,
        "服务器发来的通知",
        "服务器发来的每一行都要打印出来。",
    )?;
    let output = room.client.output().stdout();
    if output.contains('\u{1b}') {
        return Err(room
            .failure("输出不是终端,客户端却还在输出颜色代码")
            .expected(
                "stdout 被重定向(不是终端)或者设置了 NO_COLOR 时,不输出 \\u{1b}[ 开头的颜色代码",
            )
            .actual(format!("stdout 里有 ESC 字符:「{}」", show_text(&output)))
            .hint(
                "用 std::io::IsTerminal 判断 stdout 是不是终端,再加上 NO_COLOR,\
                   调用 colored::control::set_override(是否要颜色)。",
            ));
    }
    Ok(())
}

fn client_reconnects(session: &mut Session) -> Result<(), Failure> {
    let (mut room, mut conn) = client_joins(session, "小红")?;
    // 学员改了名;服务器确认。重连时要报的是新名字。
    room.type_line("/nick 小红花")?;
    room.expect_line(
        &mut conn,
        "/nick 小红花",
        "以 / 开头的命令也是原样发给服务器的一行。",
    )?;
    room.say(&conn, "* 你现在叫 小红花")?;
    room.expect_printed(
        "你现在叫 小红花",
        "服务器的确认",
        "服务器发来的每一行都要打印出来。",
    )?;

    // 「服务器重启」:关掉连接。客户端要说一声,然后重连。
    drop(conn);
    let flapping = room.accept(STARTUP)?;
    // 第一次重连时服务器还没好:连上就被重置。客户端要再等一会儿、再试。
    flapping.reset();
    let reset_at = Instant::now();
    let mut conn = room.accept(STARTUP * 2).map_err(|f| {
        f.headline("连接被重置以后,客户端没有再重连").hint(
            "重连失败不是结束:隔一会儿再试(每次等的时间加倍,设个上限),直到连上或者用户按 Ctrl-D。",
        )
    })?;
    let waited = reset_at.elapsed();
    if waited < Duration::from_millis(100) {
        return Err(room
            .failure("客户端重连之前一点也没有等")
            .expected("一次重连失败以后,至少等 100 毫秒再试(比如 250 毫秒,之后每次加倍)")
            .actual(format!(
                "上一次连接被重置后 {} 毫秒就又连上来了",
                waited.as_millis()
            ))
            .hint(
                "服务器没好的时候,不停地立刻重连只会白白占满 CPU、给服务器添乱。\
                   每次失败后先让线程停一会儿,等的时间逐次加倍(退避),最多等几秒。",
            )
            .read("断线重连"));
    }
    room.greet(
        &mut conn,
        "小红花",
        "重连以后,要自动报上最后用的昵称(用户用 /nick 改过名,就报新名字),\
         这样用户不用重新输入。把昵称放在两个线程都能看到的地方(比如 Arc<Mutex<String>>)。",
    )?;
    let out = room.client.output();
    let said_so = format!("{}{}", out.stdout(), out.stderr());
    if !(said_so.contains("断") || said_so.contains("重连")) {
        return Err(room.failure("连接断了,客户端却一声不吭")
            .expected("stdout 或 stderr 上有一行说连接断了、正在重连(里面有「断」或「重连」)")
            .actual(format!("客户端的输出里没有这样的话;客户端{}", room.describe_client()))
            .hint("用户得知道发生了什么:收消息的线程读到 EOF 或错误时,打印一行「与服务器的连接断开了,正在重连……」。"));
    }

    let line = said("小明", "欢迎回来");
    room.say(&conn, &line)?;
    room.expect_printed(
        &line,
        "重连以后收到的消息",
        "重连以后,收消息的线程要从新的连接上读。",
    )?;
    room.type_line("我回来了")?;
    room.expect_line(
        &mut conn,
        "我回来了",
        "重连以后,读键盘的线程要往新的连接上发:两个线程共享「当前的连接」(比如 Arc<Mutex<Option<TcpStream>>>)。",
    )
}

fn client_explains_a_full_room(session: &mut Session) -> Result<(), Failure> {
    let mut room = FakeRoom::start(session, "小红")?;
    let conn = room.accept(STARTUP)?;
    let full = "! 聊天室已满,请稍后再来";
    // 客户端可能已经报了昵称:先关闭发送方向(它读完这一行就读到 EOF),再读掉它发来的东西,
    // 这样连接是正常关闭的,不会被重置。
    room.say(&conn, full)?;
    conn.stop_sending();
    let mut conn = conn;
    let _ = conn.read_to_close(deadline(REPLY), || true);
    let status = room.client.wait_exit(deadline(EXIT));
    let out = room.client.output();
    let said_why = format!("{}{}", out.stdout(), out.stderr()).contains("聊天室已满");
    let problem = match status {
        None => Some(format!("{} 秒后还在运行", scaled(EXIT).as_secs())),
        Some(status) if status.success() => Some("退出码是 0".to_owned()),
        Some(_) if !said_why => {
            Some("stdout 和 stderr 里都没有服务器说的「聊天室已满」".to_owned())
        }
        Some(_) => None,
    };
    match problem {
        None => Ok(()),
        Some(problem) => Err(room
            .failure("聊天室满了,客户端没有说清楚就不声不响")
            .sent(format!("{full}\n").as_bytes(), "客户端(然后关闭连接)")
            .expected("客户端打印服务器说的原因(「聊天室已满…」),然后退出,退出码不是 0")
            .actual(format!("{problem};客户端{}", room.describe_client()))
            .hint(
                "连上以后先等服务器的第一句话(设一个读超时,比如 10 秒):是「! …」就把原因告诉用户,\
                 返回错误退出;一句话没说就关了、或者一直不说话,也要说清楚。不要先打印「已连上」\
                 然后一声不吭地挂着。",
            )
            .read("门口：满员、不报昵称的人和用光的文件描述符")),
    }
}

fn client_quits_cleanly(session: &mut Session) -> Result<(), Failure> {
    for (how, nick) in [("Ctrl-D", "小红"), ("/quit", "小蓝")] {
        let (mut room, mut conn) = client_joins(session, nick)?;
        if how == "/quit" {
            room.type_line("/quit")?;
            room.expect_line(
                &mut conn,
                "/quit",
                "/quit 也要发给服务器,让服务器知道你走了。",
            )?;
        } else {
            room.client.close_stdin();
        }
        let status = room.client.wait_exit(deadline(EXIT));
        let problem = match status {
            None => Some(format!("{} 秒后还在运行", scaled(EXIT).as_secs())),
            Some(status) if !status.success() => Some(describe_exit(Some(status))),
            Some(_) => None,
        };
        if let Some(problem) = problem {
            let hint = if how == "Ctrl-D" {
                "Ctrl-D 让 stdin 读到 EOF:stdin.lines() 的循环结束了,就该退出,退出码 0。\
                 收消息的线程还卡在读连接上?主线程从 main 返回,整个进程就结束了,不用等它;\
                 但要先告诉它「是用户要走」,别让它以为断线了去重连。"
            } else {
                "发出 /quit 以后,客户端就该退出(退出码 0),不要等服务器关连接。"
            };
            return Err(room
                .failure(format!("按下 {how} 以后,客户端没有干净地退出"))
                .expected("客户端在几秒内自己退出,退出码 0")
                .actual(problem)
                .hint(hint));
        }
        // 客户端退出了,它的连接也随之关闭:评分器这边读到 EOF。
        let ending = conn.read_to_close(deadline(REPLY), || true).ending;
        if ending == ReadEnding::GaveUp {
            return Err(room
                .failure("客户端退出了,连接却没有关闭")
                .expected("客户端退出时连接关闭")
                .actual("评分器这一端一直没有读到 EOF")
                .hint("进程退出时,操作系统会关掉它的所有连接;还开着,说明有别的进程拿着它。"));
        }
    }
    Ok(())
}
