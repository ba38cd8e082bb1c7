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
    EXIT, LATE, Lesson, REPLY, STARTUP, Server, Session, Step, deadline, describe_exit,
    diagnose_stderr, scaled,
};
use crate::program::Program;
use crate::tcp::{ReadEnding, TcpFakeServer};
use crate::text::{show_text, strip_ansi};

mod client;
mod door;
mod inventory;
mod ipv6;
mod rules;
mod slow;
mod talk;
mod text;

pub use inventory::RULES;
use text::{has_control, is_invisible_format};

pub const LESSON: Lesson = Lesson {
    number: "06",
    title: "多人聊天室",
    chapter: "book/src/06-chat.md",
    rules: RULES,
    server_keeps_running: true,
    steps: &[
        Step {
            name: "服务器启动后在第一行打印实际绑定的地址",
            points: 1,
            check: talk::prints_its_address,
        },
        Step {
            name: "两个人聊天：进入有通知，一句话发给对方，不发回给自己",
            points: 2,
            check: talk::two_people_talk,
        },
        Step {
            name: "三个人同时说话：每人恰好收到另外两人的话，而且顺序不乱",
            points: 2,
            check: talk::three_people_talk_at_once,
        },
        Step {
            name: "有人突然断开（关闭、重置、没报昵称就走），其他人收到通知，聊天照常",
            points: 2,
            check: talk::vanishing_clients_are_removed,
        },
        Step {
            name: "昵称：太长、有空格或控制字符、和别人重名，都要换一个",
            points: 1,
            check: rules::nicknames_are_checked,
        },
        Step {
            name: "一个从来不读消息的人拖不住别人：他在写超时之后被请走，读消息的人一个也不会被请走",
            points: 2,
            check: slow::a_slow_client_does_not_stall_the_room,
        },
        Step {
            name: "命令：/list、/nick、/msg、/help、未知命令、/quit",
            points: 2,
            check: rules::commands_work,
        },
        Step {
            name: "坏的输入：坏的 UTF-8、ANSI 转义序列、超长的一行，都不会搞坏聊天室",
            points: 2,
            check: rules::bad_input_is_contained,
        },
        Step {
            name: "门口：满员时新来的人收到「! …」并被断开；不报昵称的连接到时被断开；里面的人照常聊天",
            points: 1,
            check: door::the_door_is_guarded,
        },
        Step {
            name: "客户端：连上后报昵称（--nick 给的，或者不给时打的第一行），把键盘上打的一行发出去",
            points: 1,
            check: client::client_sends_what_is_typed,
        },
        Step {
            name: "客户端：不打字的时候，也能马上打印别人发来的消息",
            points: 2,
            check: client::client_prints_while_idle,
        },
        Step {
            name: "客户端：服务器断开后，等一会儿重连，并报上最后用的昵称",
            points: 2,
            check: client::client_reconnects,
        },
        Step {
            name: "客户端：Ctrl-D 或 /quit 干净地退出",
            points: 1,
            check: client::client_quits_cleanly,
        },
        Step {
            name: "客户端：第一次就连不上、或者聊天室满了（服务器回「! …」并关闭连接），说清楚原因，退出码不是 0",
            points: 1,
            check: client::client_explains_a_full_room,
        },
        Step {
            name: "用 --host ::1 启动：服务器和客户端在 IPv6 的回环地址上也一样",
            points: 1,
            check: ipv6::works_on_ipv6,
        },
    ],
};

/// 别人说的一句话,在收到的人那里的样子。
pub fn said(nick: &str, text: &str) -> String {
    format!("[{nick}] {text}")
}

/// 中文后面紧跟英文昵称时,中间空一格:「没有收到 dave 离开的通知」。
fn space_before(what: &str) -> &'static str {
    if what.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        " "
    } else {
        ""
    }
}

/// 日志的一行 `line` 是不是带着 `words` 里的每个词,以及(`count` 是 Some 时)这个数:
/// 数是一串连着的数字,「12」里没有「1」。
fn logs(line: &str, words: &[&str], count: Option<usize>) -> bool {
    words.iter().all(|word| line.contains(word))
        && count.is_none_or(|count| {
            line.split(|c: char| !c.is_ascii_digit())
                .any(|number| number == count.to_string())
        })
}

/// 等不到进入的通知时的提示:没有发通知,或者发了、却不是评分器认得的样子。
const JOIN_HINT: &str = "有人报上昵称、进了聊天室以后,要告诉已经在里面的每一个人:一行以「* 」开头,\
     带着他的昵称和「进入」,比如「* bob 进入了聊天室」。如果你发了通知,看看它是不是少了开头的「* 」、\
     他的昵称或者「进入」这个词。";

/// 等不到离开的通知时,除了「没发」以外的另一种可能。
const LEAVE_WORDING: &str =
    "如果你发了离开的通知,看看它是不是少了开头的「* 」、他的昵称或者「离开」这个词。";

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

/// `/list` 的回复 `list` 哪里不对:应该恰好有 `present` 里的每一个人(人数也对),
/// 没有 `gone` 里的人;`asker` 是发命令的人。对的话返回 None,否则返回问题和提示。
fn list_problem(
    list: &str,
    present: &[&str],
    gone: &[&str],
    asker: &str,
) -> Option<(String, &'static str)> {
    // 名单里的词:昵称不会有空格和标点,按它们切开,一个个地比(alice 不能算作 alicia 的一部分)。
    let names: Vec<&str> = list
        .split(|c: char| c.is_whitespace() || ",，、:：".contains(c))
        .filter(|name| !name.is_empty())
        .collect();
    if let Some(ghost) = gone.iter().find(|nick| names.contains(nick)) {
        return Some((
            format!("里面还有已经离开的 {ghost}"),
            "请一个人离开(或者他自己走了)时,要把他从名单里删掉。",
        ));
    }
    if !names.contains(&asker) {
        return Some((
            format!("里面没有发命令的 {asker} 自己"),
            "名单是房间里的每一个人,包括发命令的人自己:不要像广播那样跳过他。人数是名单的长度。",
        ));
    }
    if let Some(missing) = present.iter().find(|nick| !names.contains(nick)) {
        return Some((
            format!("里面没有 {missing}"),
            "名单来自房间里的每一个人(按进来的先后),人数是名单的长度;刚进来的人也要在里面。",
        ));
    }
    let count = present.len().to_string();
    if !list.contains(&count) {
        return Some((
            format!("人数不是 {count}"),
            "「* 在线 N 人: …」里的 N 是名单的长度。",
        ));
    }
    None
}

/// 怎么用 nc 手动重现。
const REPRODUCE: &str = "终端 1: cargo run -p lesson-06 -- server\n\
     终端 2: cargo run -q -p course -- nc 127.0.0.1 2023    (先输入昵称 alice,回车)\n\
     终端 3: cargo run -q -p course -- nc 127.0.0.1 2023    (先输入昵称 bob,回车)\n\
     然后在终端 2 和 3 里轮流说话,看对方收到了什么。";

// ---------------------------------------------------------------------------
// 服务器这一半:评分器开好几个连接,扮演聊天的人。
// ---------------------------------------------------------------------------

/// 一个正在被测的聊天室服务器,以及和它打交道的常用动作。
struct Room {
    server: Server,
}

impl Room {
    fn open(session: &mut Session) -> Result<Room, Failure> {
        Room::open_with(session, &[])
    }

    /// 同 [`Room::open`],服务器的参数里再加上 `extra_args`(比如 `--host ::1`)。
    fn open_with(session: &mut Session, extra_args: &[&str]) -> Result<Room, Failure> {
        let server = session.start_server_as(&["server"], extra_args)?;
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
        let space = space_before(what);
        self.trouble(
            Failure::new(format!("{} 没有收到{space}{what}", peer.nick))
                .expected(expected)
                .actual(format!("{}\n({ending})", peer.transcript(8)))
                .hint(hint)
                .reproduce(REPRODUCE),
        )
    }

    /// 服务器的日志(stdout 里地址那一行之后)要有一行带着 `words` 里的每个词;`count` 是 Some 时,
    /// 那一行里还要有这个数(在线人数)。章节:每有人进来、离开,打印一行,带上他的昵称和在线人数;
    /// 改名也打印一行,带上旧昵称和新昵称。措辞随意。
    fn expect_log(
        &mut self,
        what: &str,
        words: &[&str],
        count: Option<usize>,
    ) -> Result<(), Failure> {
        let found = |out: &str| out.lines().skip(1).any(|line| logs(line, words, count));
        if self
            .server
            .program
            .wait_stdout_until(deadline(REPLY), found)
            .is_ok()
        {
            return Ok(());
        }
        let mut wanted = format!("一行带着「{}」", words.join("」和「"));
        if let Some(count) = count {
            wanted.push_str(&format!("和在线人数 {count}"));
        }
        Err(self.trouble(
            Failure::new(format!("服务器的日志里没有{}{what}", space_before(what)))
                .expected(format!("服务器的 stdout 里(地址那一行之后)有{wanted}"))
                .actual(format!(
                    "{} 秒内没有出现这样的一行(服务器的输出见下面)",
                    scaled(REPLY).as_secs()
                ))
                .hint(
                    "每有人进来、离开,服务器打印一行日志,带上他的昵称和现在的在线人数,\
                     比如「bob 进入了聊天室(在线 2 人)」;改名也打印一行,带上旧昵称和新昵称。\
                     在线人数就是加进(或删掉)以后名单的长度,在同一次加锁里读出来。",
                )
                .read("命令行参数"),
        ))
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

/// [`Room::take_free_seat`] 一直没等到座位时的「实际」。
fn refused_all_along(line: &str) -> String {
    format!(
        "{} 秒里一次次地连,每次都被请走,收到「{}」",
        scaled(REPLY).as_secs(),
        show_text(line)
    )
}

/// 写超时之外,评分器再多等这么久,才认定「该发生的没有发生」:
/// 这样评分器的期限永远不会和程序自己的超时撞在一起。
const SLACK: Duration = Duration::from_secs(2);

impl Room {
    /// 连上一个刚刚空出来的座位,等到服务器的问候,返回连接和开始连接的时刻。
    ///
    /// 有人刚走时,他的线程要一小会儿才让出座位:这时被请走(「! …满…」)就再试,有期限。
    fn take_free_seat(&mut self, nick: &str) -> Result<(ChatPeer, Instant), Failure> {
        let until = deadline(REPLY);
        // 最近一次被请走时收到的那一行。
        let mut refusal: Option<String> = None;
        let mut knock_again = Duration::from_millis(10);
        loop {
            // 连接之前取时刻:服务器的计时不可能更早开始,量出来的只会偏长,不会冤枉它「太早」。
            let since = Instant::now();
            let mut peer = self.connect(nick)?;
            let first = peer.wait_for(until, self.alive(), |_| true);
            let actual = match first {
                Ok((_, line)) if line.starts_with("* ") => return Ok((peer, since)),
                Ok((_, line)) if is_error(&line) && Instant::now() < until => {
                    refusal = Some(line);
                    // 座位什么时候空出来,服务器不会发任何信号,只能隔一会儿再敲一次门(间隔逐次加倍,
                    // 总的期限是 until)。这段时间里留意服务器有没有退出:退出了就不用再敲了。
                    drop(peer);
                    let exited = self.server.program.wait_exit(Instant::now() + knock_again);
                    knock_again = (knock_again * 2).min(Duration::from_millis(100));
                    if exited.is_none() {
                        continue;
                    }
                    format!(
                        "服务器在评分器等座位空出来的时候退出了({})",
                        describe_exit(exited)
                    )
                }
                // 期限到了:最后一次是又被请走了,还是还没等到回答,都只说「每次都被请走」,
                // 同一个程序每次得到一样的诊断。
                Ok((_, line)) if is_error(&line) => refused_all_along(&line),
                Err(missed) if missed.ending == ReadEnding::GaveUp && refusal.is_some() => {
                    refused_all_along(refusal.as_deref().unwrap_or_default())
                }
                _ if refusal.is_some() => format!(
                    "{} 秒里一次次地连,每次都收到「! …」被请走了,最后一次却是:\n{}",
                    scaled(REPLY).as_secs(),
                    peer.transcript(4)
                ),
                _ => peer.transcript(4),
            };
            return Err(self.trouble(
                Failure::new("有人走了,座位却没有空出来")
                    .expected(format!("{nick} 连上以后收到一行以「* 」开头的问候"))
                    .actual(actual)
                    .hint("连接的线程结束时(不管是怎么结束的),要把它占的座位还回去。")
                    .read("门口：满员、不报昵称的人和用光的文件描述符")
                    .reproduce(REPRODUCE),
            ));
        }
    }
}
