//! 一个客户端的一生:连上(第 4 步),报昵称(第 6 步),聊天(第 7 步),离开。

use std::io::BufReader;
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Result;

use super::line::{Timed, read_line};
use super::outbox::{Outbox, start_writer};
use super::room::{Room, Seat, line};
use crate::protocol::{Command, HELP, check_nick, clean, parse};

// ANCHOR: handle_client
/// 第 4 步:服务一个客户端,从连上到离开。它的写线程负责发,这个线程负责收。
pub(super) fn handle_client(stream: TcpStream, id: u64, room: &Room, seat: Seat) {
    // ANCHOR: step-4
    let peer = match stream.peer_addr() {
        Ok(peer) => peer,
        Err(err) => {
            warn!("警告: 连接已经断开,读不到对方地址: {err}");
            return;
        }
    };
    // 读线程、写线程和信箱共用同一个连接:一个连接只占一个文件描述符。
    let stream = Arc::new(stream);
    let outbox = Arc::new(Outbox::new(Arc::clone(&stream)));
    let writer = match start_writer(Arc::clone(&outbox), room.limits.write_timeout) {
        Ok(writer) => writer,
        Err(err) => {
            warn!("警告: 无法服务 {peer}: {err:#}");
            return;
        }
    };
    let mut reader = BufReader::new(Timed::new(&stream, &outbox));

    if let Some(nick) = choose_nick(&mut reader, id, room, &outbox) {
        if let Err(err) = chat(&mut reader, id, nick, room) {
            warn!("警告: {peer}: {err:#}");
        }
        if let Some((nick, online)) = room.leave(id) {
            let why = if outbox.too_slow() {
                "跟不上消息,已被请出聊天室"
            } else {
                "离开了聊天室"
            };
            log!("{nick} {why}(在线 {online} 人)");
            room.broadcast(id, &format!("* {nick} {why}"));
        }
    }
    // 关上信箱:写线程把里面剩下的行(比如「再见」)写完,就关闭连接、结束。
    // 等它结束,这个客户端就什么也没留下;座位也随之空出来。
    outbox.close();
    let _ = writer.join();
    drop(seat);
    // ANCHOR_END: step-4
}
// ANCHOR_END: handle_client

// ANCHOR: choose_nick
/// 第 6 步:问昵称,直到得到一个合法又没人用的昵称。对方在这之前就走了(或者超时了),返回 None。
fn choose_nick(
    reader: &mut BufReader<Timed<'_>>,
    id: u64,
    room: &Room,
    outbox: &Arc<Outbox>,
) -> Option<String> {
    // ANCHOR: step-6
    // 还没进房间,所以直接放进自己的信箱。
    let say = |text: String| outbox.post(&line(&text), room.limits.write_timeout);
    say("* 欢迎来到聊天室!请输入你的昵称".to_owned());
    // 报昵称有时限:一直不说话的连接不能永远占着座位。时限是整个报昵称的过程,
    // 不是每一次 read:否则每隔一会儿发一个字节,就能一直占着。
    reader.get_mut().deadline = Some(Instant::now() + room.limits.nick_timeout);
    let nick = loop {
        let line = match read_line(reader) {
            Ok(Some(line)) => line,
            Ok(None) => return None,
            Err(err) => {
                say(format!("! {err}"));
                return None;
            }
        };
        let nick = line.trim();
        if let Err(why) = check_nick(nick) {
            say(format!("! {why}"));
            continue;
        }
        match room.join(id, nick, outbox) {
            Ok(online) => {
                log!("{nick} 进入了聊天室(在线 {online} 人)");
                break nick.to_owned();
            }
            Err(why) => say(format!("! {why}")),
        }
    };
    reader.get_mut().deadline = None;
    room.broadcast(id, &format!("* {nick} 进入了聊天室"));
    Some(nick)
    // ANCHOR_END: step-6
}
// ANCHOR_END: choose_nick

/// 一次最多把这么多字节的话攒在一起发(见 [`chat`])。
const BATCH_BYTES: usize = 16 * 1024;

// ANCHOR: chat
/// 第 7 步:一行一行地读,照 [`parse`] 的意思办,直到对方离开或者说了 /quit。
///
/// 普通的话先攒着:缓冲区里还有下一整行时(他说得很快,或者贴了一大段),接着读,
/// 攒够了或者没有现成的下一行了,再一起发出去。每个收信人一次系统调用就收到好几行;
/// 一句一句说的时候,攒着的只有一行,马上就发,不会多等。
fn chat(reader: &mut BufReader<Timed<'_>>, id: u64, mut nick: String, room: &Room) -> Result<()> {
    // ANCHOR: step-7
    let mut said = String::new();
    loop {
        if !said.is_empty() && (said.len() >= BATCH_BYTES || !reader.buffer().contains(&b'\n')) {
            room.broadcast_lines(id, std::mem::take(&mut said));
        }
        let line = match read_line(reader) {
            Ok(Some(line)) => line,
            Ok(None) => {
                room.broadcast_lines(id, said);
                return Ok(());
            }
            Err(err) => {
                room.broadcast_lines(id, said);
                room.tell(id, &format!("! {err},你被断开了"));
                return Err(err.into());
            }
        };
        let command = parse(&line);
        if let Command::Say(text) = command {
            said.push_str(&format!("[{nick}] {}\n", clean(text)));
            continue;
        }
        // 命令的回复和通知,要排在他之前说的话后面。
        if !said.is_empty() {
            room.broadcast_lines(id, std::mem::take(&mut said));
        }
        match command {
            Command::Nothing | Command::Say(_) => {}
            Command::List => {
                let names = room.names();
                room.tell(
                    id,
                    &format!("* 在线 {} 人: {}", names.len(), names.join(", ")),
                );
            }
            Command::Nick(new) => match check_nick(new).and_then(|()| room.rename(id, new)) {
                Ok(old) => {
                    log!("{old} 改名为 {new}");
                    room.tell(id, &format!("* 你现在叫 {new}"));
                    room.broadcast(id, &format!("* {old} 改名为 {new}"));
                    nick = new.to_owned();
                }
                Err(why) => room.tell(id, &format!("! {why}")),
            },
            Command::Msg { to, text } => match room.find(to) {
                Some(target) if target != id => {
                    room.tell(target, &format!("[{nick} 悄悄对你说] {}", clean(text)));
                    room.tell(id, &format!("* 悄悄话已发给 {to}"));
                }
                Some(_) => room.tell(id, "! 不用给自己发私信"),
                None => room.tell(id, &format!("! 没有叫 {} 的人在线", clean(to))),
            },
            Command::Help => room.tell(id, &format!("* {HELP}")),
            Command::Quit => {
                room.tell(id, "* 再见!");
                return Ok(());
            }
            Command::Invalid(why) => room.tell(id, &format!("! {}", clean(&why))),
        }
    }
    // ANCHOR_END: step-7
}
// ANCHOR_END: chat
