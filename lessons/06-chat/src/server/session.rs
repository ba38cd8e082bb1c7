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
    // TODO: 第 4 步:服务一个客户端,从连上到离开。
    //   - 用 stream.peer_addr() 取对方地址(失败就警告一行、返回)。
    //   - let stream = Arc::new(stream);读线程、写线程和信箱共用它(一个连接只占一个文件描述符)。
    //   - let outbox = Arc::new(Outbox::new(Arc::clone(&stream)));
    //     用 start_writer(Arc::clone(&outbox), room.limits.write_timeout)(第 5 步)启动写线程。
    //     它返回 Result;这个函数什么也不返回,不能用 ?:match 它,Err 就警告一行(带上 peer)、返回。
    //   - let mut reader = BufReader::new(Timed::new(&stream, &outbox));
    //     用 choose_nick(第 6 步)问到昵称;问到了,就用 chat(第 7 步)和他聊,直到他离开。
    //     chat 返回 Err(比如一行太长)时,警告一行(带上 peer),接着往下做离开的事。
    //   - 离开时:room.leave(id) 返回 Some((昵称, 人数)) 的话(他还在房间里),看 outbox.too_slow():
    //     是的话说「跟不上消息,已被请出聊天室」,否则「离开了聊天室」;打印一行日志,带上昵称和剩下的人数,
    //     再告诉其他人:room.broadcast(id, "* 昵称 离开了聊天室")(或者「* 昵称 跟不上消息,已被请出聊天室」)。
    //   - 最后 outbox.close(),再 join 写线程:写线程写完信箱里剩下的行就关闭连接、结束。
    todo!("第 4 步:服务编号为 {id} 的客户端")
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
    // TODO: 第 6 步:问昵称,直到得到一个合法又没人用的昵称。
    //   - 他还没进房间,提示直接放进自己的信箱:outbox.post(&line("* 欢迎来到聊天室!请输入你的昵称"), room.limits.write_timeout)
    //     (line() 给这一行加上换行;「! 原因」也这样回)。
    //   - 报昵称有时限:reader.get_mut().deadline = Some(Instant::now() + room.limits.nick_timeout);
    //   - 循环:用 read_line(第 8 步)读一行;Ok(None)(对方走了)就返回 None;
    //     Err(比如超时)→ 回一行「! 原因」,返回 None。
    //   - check_nick(昵称.trim()) 不通过:回一行「! 原因」,接着等下一行。
    //   - room.join(id, 昵称, outbox):Err(重名)→ 回一行「! 原因」,接着等;
    //     Ok(在线人数)→ 打印一行日志,带上昵称和在线人数(join 已经把欢迎语放进了他的信箱)。
    //   - 进来了:reader.get_mut().deadline = None(聊天没有时限),
    //     room.broadcast(id, "* 昵称 进入了聊天室"),返回 Some(昵称)。
    todo!("第 6 步:问编号为 {id} 的客户端要昵称")
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
    // TODO: 第 7 步:一行一行地读,照 parse 的意思办,直到对方离开或者说了 /quit。
    //   - 普通的话先攒在一个 String 里(每句「[昵称] 文字\n」):缓冲区里没有现成的下一整行了
    //     (!reader.buffer().contains(&b'\n')),或者攒够了 BATCH_BYTES,再用
    //     room.broadcast_lines(id, 攒着的) 一起发;处理命令之前、离开之前,也先把攒着的发出去。
    //   - read_line 返回 Ok(None):对方走了,返回 Ok(())。
    //     返回 Err(比如一行太长):先 room.tell(id, "! 原因,你被断开了"),再返回这个错误。
    //   - match parse(&line) {
    //       Command::Say(text) → 攒起来:"[昵称] " + clean(text) + "\n"   (不发回给自己)
    //       Command::List → room.tell(id, "* 在线 N 人: a, b")
    //       Command::Nick(new) → check_nick 和 room.rename;成功时告诉自己「* 你现在叫 new」,
    //                             告诉别人「* old 改名为 new」,打印一行日志(带上 old 和 new),并更新 nick
    //       Command::Msg { to, text } → room.find(to),只 tell 他一个「[昵称 悄悄对你说] 内容」
    //       Command::Help → room.tell(id, &format!("* {HELP}"))(通知都以「* 」开头,HELP 本身没有)
    //       Command::Quit → tell「* 再见!」然后返回
    //       Command::Invalid(why) → tell「! why」(why 里有他打的命令名,也要 clean);
    //       Command::Nothing → 什么也不做 }
    //   - 别人发来的文字转发前一定要 clean:控制字符不能到达别人的终端。
    todo!("第 7 步:和 {nick} 聊天")
}
// ANCHOR_END: chat
