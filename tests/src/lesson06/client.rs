//! 第 6 课的第 10–14 项:客户端。评分器扮演服务器,替学员在键盘上打字。

use super::*;
use crate::grader::ErrorExit;
use crate::inputs::{self, Kind};
use crate::tcp::{IGNORES_HOST, RefusingPort};
use predicates::prelude::*;

/// 评分器扮演的聊天室服务器,和连上它的被测客户端。
struct FakeRoom {
    server: TcpFakeServer,
    /// 用 `--host ::1` 时,评分器还占着 127.0.0.1 上的同一个端口:不用 --host 的客户端会连到这里。
    twin: Option<TcpFakeServer>,
    client: Program,
    command: String,
}

impl FakeRoom {
    /// 启动被测客户端 `client --port P --nick 小红`,让它连上评分器。
    fn start(session: &mut Session, nick: &str) -> Result<FakeRoom, Failure> {
        FakeRoom::start_on(session, TcpFakeServer::bind(), None, &[], Some(nick))
    }

    /// 同 [`FakeRoom::start`],评分器在 `server` 上扮演服务器(`twin` 见 [`FakeRoom::twin`]),
    /// 客户端的参数里再加上 `host_args`(比如 `--host ::1`);`nick` 是 None 时不给 `--nick`。
    fn start_on(
        session: &mut Session,
        server: TcpFakeServer,
        twin: Option<TcpFakeServer>,
        host_args: &[&str],
        nick: Option<&str>,
    ) -> Result<FakeRoom, Failure> {
        let port = server.addr().port().to_string();
        let mut args = vec!["client"];
        args.extend_from_slice(host_args);
        args.extend_from_slice(&["--port", &port]);
        if let Some(nick) = nick {
            args.extend_from_slice(&["--nick", nick]);
        }
        let client = session.spawn_interactive("客户端", &args)?;
        let command = format!("{} {}", session.name(), args.join(" "));
        Ok(FakeRoom {
            server,
            twin,
            client,
            command,
        })
    }

    /// 等客户端连上来,最多等 `limit`。
    fn accept(&mut self, limit: Duration) -> Result<ChatPeer, Failure> {
        let client = &mut self.client;
        let twin = self.twin.as_ref();
        let accepted = match self
            .server
            .accept_or_stray(twin, deadline(limit), || client.exited().is_none())
        {
            Ok(accepted) => accepted,
            Err(from) => {
                let twin = twin.expect("只有看着孪生端口时,才会有人连错地方");
                let failure = self
                    .failure(IGNORES_HOST)
                    .expected(format!("客户端连上 {}", self.server.addr()))
                    .read("命令行参数");
                return Err(self.server.strayed(twin, from, failure));
            }
        };
        match accepted {
            Some(conn) => Ok(ChatPeer::new(conn, "评分器扮演的服务器")),
            None => Err(self
                .failure("客户端没有连上评分器扮演的服务器")
                .expected(format!("客户端连上 {}", self.server.addr()))
                .actual(self.describe_client())
                .hint("客户端启动后要用 TcpStream::connect 连上 --host 和 --port 指定的服务器。")),
        }
    }

    /// 等客户端发来一行,要等于 `expected`;发来的不一样时,失败的标题是 `wrong`。
    fn expect_line(
        &mut self,
        conn: &mut ChatPeer,
        expected: &str,
        wrong: &str,
        hint: &str,
    ) -> Result<(), Failure> {
        let client = &mut self.client;
        let got = conn.wait_for(deadline(REPLY), || client.exited().is_none(), |_| true);
        match got {
            Ok((_, line)) if line == expected => Ok(()),
            Ok((_, line)) => Err(self
                .failure(wrong)
                .expected(format!("一行「{}」", show_text(expected)))
                .actual(format!("收到「{}」", show_text(&line)))
                .hint(hint)),
            Err(missed) => Err(self.no_line(missed, expected, hint)),
        }
    }

    /// 等不到客户端发来的一行(本该是 `expected`)时的失败。
    fn no_line(&mut self, missed: Missed, expected: &str, hint: &str) -> Failure {
        let ending = match missed.ending {
            ReadEnding::Closed => "客户端关闭了连接".to_owned(),
            ReadEnding::Error(err) => err,
            _ => format!("{} 秒内什么也没收到", scaled(REPLY).as_secs()),
        };
        self.failure("没有收到客户端发来的一行")
            .expected(format!("一行「{}」", show_text(expected)))
            .actual(format!("{ending};客户端{}", self.describe_client()))
            .hint(hint)
    }

    /// 等客户端发来打的那一行 `typed`:原样,或者去掉了一头、两头的空白。
    fn expect_typed(&mut self, conn: &mut ChatPeer, typed: &str) -> Result<(), Failure> {
        let client = &mut self.client;
        let got = conn.wait_for(deadline(REPLY), || client.exited().is_none(), |_| true);
        let line = match got {
            Ok((_, line)) => line,
            Err(missed) => {
                let still_there = matches!(missed.ending, ReadEnding::GaveUp | ReadEnding::Found)
                    && self.client.exited().is_none();
                let hint = if still_there {
                    NOT_SENT_HINT
                } else {
                    "客户端要一直读键盘,把每一行原样发给服务器,直到 Ctrl-D 或 /quit。"
                };
                return Err(self
                    .no_line(missed, typed, hint)
                    .read("第 10 步：读键盘、发送"));
            }
        };
        if [typed, typed.trim(), typed.trim_start(), typed.trim_end()].contains(&line.as_str()) {
            return Ok(());
        }
        let hint = if line.is_empty() {
            "客户端多发了一个空行:多半是 read_line 读到的一行本来就带着换行,又用 writeln! 加了一个。\
             先 trim_end_matches(['\\r', '\\n']),或者用 lines() 读。"
        } else {
            TYPED_HINT
        };
        Err(self
            .failure(TYPED_WRONG)
            .expected(format!("一行「{}」", show_text(typed)))
            .actual(format!("收到「{}」", show_text(&line)))
            .hint(hint)
            .read("第 10 步：读键盘、发送"))
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
    fn greet(
        &mut self,
        conn: &mut ChatPeer,
        nick: &str,
        wrong: &str,
        hint: &str,
    ) -> Result<(), Failure> {
        self.say(conn, "* 欢迎来到聊天室!请输入你的昵称")?;
        self.expect_line(conn, nick, wrong, hint)?;
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
        let reproduce = if self.twin.is_some() {
            "终端 1: cargo run -p lesson-06 -- server --host ::1\n\
             终端 2: cargo run -p lesson-06 -- client --host ::1 --nick 小红\n\
             终端 3: cargo run -q -p course -- nc ::1 2023    (先输入昵称 小明,回车,然后说话)"
        } else {
            "终端 1: cargo run -p lesson-06 -- server\n\
             终端 2: cargo run -p lesson-06 -- client --nick 小红\n\
             终端 3: cargo run -q -p course -- nc 127.0.0.1 2023    (先输入昵称 小明,回车,然后说话)"
        };
        Failure::new(headline)
            .ran(&self.command)
            .reproduce(reproduce)
    }
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
    joins(FakeRoom::start(session, nick)?, nick)
}

/// `room` 里的客户端进门:连上、问昵称、欢迎。
fn joins(mut room: FakeRoom, nick: &str) -> Result<(FakeRoom, ChatPeer), Failure> {
    let mut conn = room.accept(STARTUP)?;
    room.greet(
        &mut conn,
        nick,
        "客户端报的昵称不对",
        "客户端连上以后,等到服务器的第一句话,就把 --nick 给的昵称原样作为一行发给服务器\
         (带换行):只有昵称本身,前后不加别的。",
    )?;
    Ok((room, conn))
}

pub(super) fn client_sends_what_is_typed(session: &mut Session) -> Result<(), Failure> {
    let (room, conn) = client_joins(session, "小红")?;
    sends_what_is_typed(room, conn)?;
    nick_typed_at_the_prompt(session)
}

/// 不给 `--nick`:连上以后,键盘上打的第一行就是昵称。
///
/// 评分器一启动客户端就替学员打好昵称(它在 stdin 里等着):先连上再读键盘的客户端,
/// 和先读键盘再连的客户端,都拿得到它。
fn nick_typed_at_the_prompt(session: &mut Session) -> Result<(), Failure> {
    let nick = "小蓝";
    let mut room = FakeRoom::start_on(session, TcpFakeServer::bind(), None, &[], None)?;
    // 客户端可能一启动就退出了:那时打字会失败(管道断了),连接也等不到,原因都是它退出了。
    let typed = room.type_line(nick);
    let accepted = typed.and_then(|()| room.accept(STARTUP));
    let mut conn = match accepted {
        Ok(conn) => conn,
        Err(_) if room.client.exited().is_some() => {
            let status = room.client.exited();
            return Err(room
                .failure("不给 --nick,客户端就退出了")
                .expected(format!(
                    "客户端连上评分器扮演的服务器 {},把键盘上打的第一行「{nick}」当作昵称发过来",
                    room.server.addr()
                ))
                .actual(describe_exit(status))
                .hint(
                    "--nick 是可以不给的:不给的话,连上以后键盘上打的第一行就是昵称,\
                     原样作为一行发给服务器(服务器的问话「* 欢迎来到聊天室!请输入你的昵称」就是在等它)。",
                )
                .read("命令行参数"));
        }
        Err(failure) => return Err(failure),
    };
    room.say(&conn, "* 欢迎来到聊天室!请输入你的昵称")?;
    room.expect_line(
        &mut conn,
        nick,
        "不给 --nick 时,客户端报的昵称不是键盘上打的第一行",
        "不给 --nick 的话,键盘上打的第一行就是昵称:原样作为一行发给服务器,前后不加别的。",
    )?;
    room.say(
        &conn,
        &format!("* 你好,{nick}!现在在线 2 人: 小明, {nick}。输入 /help 查看命令"),
    )?;
    sends_what_is_typed(room, conn)
}

/// 用 `--host ::1` 的客户端:连上 [::1]:端口,进门,把打的一行发出去(第 15 项)。
pub(super) fn client_on_ipv6(session: &mut Session) -> Result<(), Failure> {
    let (server, twin) = TcpFakeServer::bind_ipv6_with_ipv4_twin();
    let room = FakeRoom::start_on(
        session,
        server,
        Some(twin),
        &["--host", "::1"],
        Some("小红"),
    )?;
    let (room, conn) = joins(room, "小红")?;
    sends_what_is_typed(room, conn)
}

/// 替学员打一行字,客户端要把它原样发给服务器。
///
/// 先是一句普通的话,再是输入目录里的各种文字和空白:每一行都要原样到,一行不多
/// (两头的空白可以去掉,服务器反正也会去掉)。多出来的空行,会在下一行的位置被发现。
fn sends_what_is_typed(mut room: FakeRoom, mut conn: ChatPeer) -> Result<(), Failure> {
    room.type_line("大家好,我是小红")?;
    room.expect_line(&mut conn, "大家好,我是小红", TYPED_WRONG, TYPED_HINT)?;
    for input in inputs::messages(&[Kind::Text, Kind::Space], true) {
        let typed = input.lossy();
        room.type_line(&typed)?;
        room.expect_typed(&mut conn, &typed)
            .map_err(|f| f.sent_note(input.note()))?;
    }
    Ok(())
}

/// 客户端还在、连接也开着,打的一行却一直没发出来:评分器分不清是哪一种,几种都说。
const NOT_SENT_HINT: &str = "客户端还在运行,却没有把打的这一行发出来。可能是:它只有一个线程,\
     发完上一行就卡在「读服务器」上,顾不上读键盘(服务器不会把你的话发回给你,它等不到);\
     要开两个线程:一个读键盘、发送,一个读连接、打印。也可能是发送用了 BufWriter 却没有 flush,\
     或者要读完整个 stdin 才开始发。";

/// 客户端发出的一行和打的不一样时的标题和提示。
const TYPED_WRONG: &str = "客户端发出的一行和键盘上打的不一样";
const TYPED_HINT: &str = "键盘(stdin)上打的每一行,都要原样作为一行发给服务器:读一行 stdin,\
     write_all 到连接上,别忘了换行。前面不要加昵称:服务器转发时会替你加上「[昵称] 」。";

pub(super) fn client_prints_while_idle(session: &mut Session) -> Result<(), Failure> {
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

/// 重连失败以后,至少等这么久再试(课本:「断线重连」)。
const RECONNECT_WAIT: Duration = Duration::from_millis(100);
/// 评分器被耽搁时,最多量这么多次(见 [`client_reconnects`])。
const RECONNECT_SAMPLES: usize = 4;

pub(super) fn client_reconnects(session: &mut Session) -> Result<(), Failure> {
    let (mut room, mut conn) = client_joins(session, "小红")?;
    // 学员改了名;服务器确认。重连时要报的是新名字。
    room.type_line("/nick 小红花")?;
    room.expect_line(
        &mut conn,
        "/nick 小红花",
        "客户端发出的一行和键盘上打的不一样",
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
    let mut flapping = room.accept(STARTUP)?;
    // 量的是「重置之后多久又连上来」。评分器或者客户端被耽搁时(机器忙),这段时间会被拉长,
    // 一个根本不等的客户端也可能显得等了 100 毫秒:扣掉看得到的耽搁(评分器的哨兵记下的,
    // 和客户端在运行队列里排队的,Linux 上量得到)还够 100 毫秒,这一次才作数;不够就再重置
    // 一次、再量一次。正确的客户端在睡觉,不排队,一次就作数。短于 100 毫秒的一次总是作数:
    // 耽搁只会让它显得更长,不会更短。
    let mut samples = 1;
    let pid = room.client.id();
    let mut conn = loop {
        flapping.reset();
        let reset_at = Instant::now();
        let watch = crate::stall::watch();
        let queued_before = crate::stall::queued(pid);
        let next = room.accept(STARTUP * 2).map_err(|f| {
            f.headline("连接被重置以后,客户端没有再重连").hint(
                "重连失败不是结束:隔一会儿再试(每次等的时间加倍,设个上限),直到连上或者用户按 Ctrl-D。",
            )
        })?;
        let waited = reset_at.elapsed();
        if waited < RECONNECT_WAIT {
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
        let client_queued = match (queued_before, crate::stall::queued(pid)) {
            (Some(before), Some(after)) => after.saturating_sub(before),
            _ => Duration::ZERO,
        };
        let doubt = watch.lost() + client_queued;
        if waited.saturating_sub(doubt) >= RECONNECT_WAIT || samples == RECONNECT_SAMPLES {
            break next;
        }
        samples += 1;
        flapping = next;
    };
    room.greet(
        &mut conn,
        "小红花",
        "重连以后,客户端报的不是最后用的昵称",
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
        "重连以后,客户端发出的一行和键盘上打的不一样",
        "重连以后,读键盘的线程要往新的连接上发:两个线程共享「当前的连接」(比如 Arc<Mutex<Option<TcpStream>>>)。",
    )
}

pub(super) fn client_explains_a_full_room(session: &mut Session) -> Result<(), Failure> {
    explains_a_refused_connection(session)?;
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
    let wrong = match status {
        None => Some((
            "聊天室满了,客户端却没有退出",
            format!("{} 秒后还在运行", scaled(EXIT).as_secs()),
            "连上以后先等服务器的第一句话(设一个读超时,比如 10 秒):是「! …」就把原因告诉用户,\
             返回错误退出;一句话没说就关了、或者一直不说话,也要说清楚。不要先打印「已连上」\
             然后一声不吭地挂着,也不要把进不了门当成断线去重连。",
        )),
        Some(_) if !said_why => Some((
            "聊天室满了,客户端没有说清楚原因",
            format!(
                "stdout 和 stderr 里都没有服务器说的「聊天室已满」;客户端{}",
                describe_exit(status)
            ),
            "服务器说的「! …」就是原因:把它告诉用户(打印到 stdout 或 stderr),再退出。",
        )),
        Some(status) if status.success() => Some((
            "聊天室满了,客户端却以退出码 0 退出",
            "客户端说了原因,退出码却是 0".to_owned(),
            "进不了聊天室是一个错误:run 返回 Err,main 据此返回非 0 的退出码(ExitCode::FAILURE)。\
             脚本和老师的评分工具都靠退出码知道「没成」。",
        )),
        Some(_) => None,
    };
    match wrong {
        None => Ok(()),
        Some((headline, problem, hint)) => Err(room
            .failure(headline)
            .sent(format!("{full}\n").as_bytes(), "客户端(然后关闭连接)")
            .expected("客户端打印服务器说的原因(「聊天室已满…」),然后退出,退出码不是 0")
            .actual(problem)
            .hint(hint)
            .read("门口：满员、不报昵称的人和用光的文件描述符")),
    }
}

/// 第一次就连不上(端口没人监听):像第 5 课一样报错退出,不要重试。
///
/// 重试的客户端(哪怕等得再有节制)永远不会自己退出;评分器等它 `EXIT` 秒。
fn explains_a_refused_connection(session: &mut Session) -> Result<(), Failure> {
    // 这个端口被评分器占着却不监听:连接它一定被拒绝,也不会有别的程序抢走它。
    let refusing = RefusingPort::bind();
    let port = refusing.addr().port().to_string();
    let args = ["client", "--port", port.as_str(), "--nick", "小红"];
    let run = session.run_to_end("客户端", &args, scaled(EXIT));
    drop(refusing);
    let failure = Failure::new("第一次就连不上时,客户端没有好好地报错退出")
        .ran(format!("{} {}", session.name(), args.join(" ")))
        .expected(format!(
            "stderr 里有一句说明,带着连不上的地址(127.0.0.1:{port});以非 0 退出码退出;不 panic、不重试"
        ))
        .actual(run.describe())
        .reproduce("不启动服务器,直接运行客户端:\ncargo run -p lesson-06 -- client --nick 小红")
        .read("第 9 步：连上服务器");
    run.expect_error_exit(
        &failure,
        ErrorExit {
            hung: "第一次就连不上,多半是地址写错了或者服务器没开,重试也没有用:像第 5 课一样报错退出。\
                   只有连上过、后来断了,才去重连。",
            panicked: "程序 panic 了。服务器没开是再常见不过的情况,不是 bug:不要 unwrap() connect 的结果,\
                       用 with_context 带上地址,返回错误。",
            succeeded: "连不上是一个错误:run 返回 Err,main 据此返回非 0 的退出码(ExitCode::FAILURE)。",
            explains: predicate::str::contains(port.as_str()),
            unexplained: "说明里要有连的是哪个地址(含端口),用户才知道该检查什么:服务器开了吗?端口对吗?\
                          connect 出错时用 with_context(|| format!(\"连不上聊天服务器 {addr}\")) 带上它。",
        },
    )
}

pub(super) fn client_quits_cleanly(session: &mut Session) -> Result<(), Failure> {
    for (how, nick) in [("Ctrl-D", "小红"), ("/quit", "小蓝")] {
        let (mut room, mut conn) = client_joins(session, nick)?;
        if how == "/quit" {
            room.type_line("/quit")?;
            room.expect_line(
                &mut conn,
                "/quit",
                "客户端发出的一行和键盘上打的不一样",
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
            // 还在运行:它是不是在等连接关闭?评分器关掉自己这一头,再看一眼。
            let waits_for_close = status.is_none() && {
                conn.stop_sending();
                room.client.wait_exit(deadline(LATE)).is_some()
            };
            let (headline, hint) = match (how, waits_for_close) {
                ("Ctrl-D", true) => (
                    "按下 Ctrl-D 以后,客户端一直等到服务器关了连接才退出",
                    "主线程读到 EOF 以后,在等收消息的线程(join),而那个线程还卡在读连接上,\
                     直到服务器关了连接才醒。不要等它:告诉它「是用户要走」,关闭连接(shutdown),\
                     主线程从 main 返回,整个进程就结束了。先 shutdown 再 join 也不行:\
                     Windows 上 shutdown 叫不醒卡在 read 上的线程。",
                ),
                ("Ctrl-D", false) => (
                    "按下 Ctrl-D 以后,客户端没有干净地退出",
                    "Ctrl-D 让 stdin 读到 EOF:stdin.lines() 的循环结束了,就该退出,退出码 0。\
                     收消息的线程还卡在读连接上?主线程从 main 返回,整个进程就结束了,不用等它;\
                     但要先告诉它「是用户要走」,别让它以为断线了去重连。",
                ),
                (_, true) => (
                    "输入 /quit 以后,客户端一直等到服务器关了连接才退出",
                    "发出 /quit 以后,客户端就该退出(退出码 0),不要等服务器关连接,\
                     也不要等收消息的线程(join):关闭连接(shutdown),主线程从 main 返回。\
                     Windows 上 shutdown 叫不醒卡在 read 上的线程,先 shutdown 再 join 一样会挂住。",
                ),
                (_, false) => (
                    "输入 /quit 以后,客户端没有干净地退出",
                    "发出 /quit 以后,客户端就该退出(退出码 0),不要等服务器关连接。",
                ),
            };
            return Err(room
                .failure(headline)
                .expected("客户端在几秒内自己退出,退出码 0")
                .actual(if waits_for_close {
                    format!("{problem};评分器关掉连接以后,它才退出")
                } else {
                    problem
                })
                .hint(hint)
                .read("第 10 步：读键盘、发送"));
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
