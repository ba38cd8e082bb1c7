//! 聊天室服务器:每个客户端一个线程读、一个线程写,房间(谁在线)放在 `Arc<Mutex<…>>` 里共享。
//!
//! 为什么每个客户端还要一个「写线程」?如果在广播的时候直接 `write_all` 到每个人的连接,
//! 一个不读消息的客户端会让 write_all 卡住(它的接收缓冲区满了),整个房间跟着卡住。
//! 所以广播只是把一行放进每个人的「信箱」(容量有限的队列),`try_send` 从不等待;
//! 信箱满了,说明这个人跟不上,就请他离开。真正写套接字的是每个人自己的写线程。

// 骨架里的 todo!() 让一些参数、导入和常量暂时用不上;所有步骤都写完以后,可以删掉下面这一行。
#![allow(unused_variables, unused_imports, dead_code, unused_mut)]

use std::collections::BTreeMap;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::Duration;

use anyhow::{Context, Result};

use crate::protocol::{Command, HELP, MAX_LINE, check_nick, clean, parse};

/// 每个人的信箱最多存这么多行。存满了还没被取走,这个人就被请出房间。
const OUTBOX_LINES: usize = 1024;

/// accept 失败以后,歇这么久再试。
const ACCEPT_PAUSE: Duration = Duration::from_millis(100);

/// 写一个连接最多等这么久;写不出去的连接会被关掉。
const WRITE_TIMEOUT: Duration = Duration::from_secs(5);

/// 服务器发出的一行,大家共享同一份(广播给 100 个人也只存一份文字)。
type Line = Arc<str>;

// ANCHOR: bind
/// 第 1 步:绑定并开始监听,打印实际绑定的地址。
pub fn bind(host: &str, port: u16) -> Result<TcpListener> {
    // TODO: 第 1 步:在 (host, port) 上绑定并监听,打印实际绑定到的地址。
    //   - 和第 4 课一样:TcpListener::bind((host, port)),失败时用 with_context 说明是哪个地址。
    //   - 第一行输出必须含有 listener.local_addr() 的结果,例如
    //     「聊天服务器已启动,正在监听 127.0.0.1:2023」(评分时 port 是 0)。
    todo!("第 1 步:在 {host}:{port} 上绑定聊天服务器,并打印实际地址")
}
// ANCHOR_END: bind

// ANCHOR: serve
/// 第 2 步:接受连接,每个客户端交给一个新线程。主线程只管 accept,所以谁也卡不住它。
pub fn serve(listener: &TcpListener) -> Result<()> {
    // TODO: 第 2 步:接受连接,每个客户端交给一个新线程,主线程立刻回去 accept 下一个。
    //   - 先建一个所有线程共享的房间:let room = Arc::new(Room::default());
    //   - 每个连接一个编号(1、2、3……):for (id, incoming) in (1u64..).zip(listener.incoming())
    //   - accept 失败只 eprintln! 一行警告,歇 ACCEPT_PAUSE 再继续(文件描述符用完时,
    //     accept 会一次又一次地立刻失败,不歇一下主线程就会空转)。
    //   - 每个线程拿一份 Arc::clone(&room),在线程里调用 handle_client(stream, id, &room)。
    //     用 thread::Builder::new().spawn(…):系统不给线程时它返回错误(thread::spawn 会 panic),
    //     这时警告一行,放弃这一个连接。
    todo!("第 2 步:循环接受连接,每个客户端一个线程")
}
// ANCHOR_END: serve

// ANCHOR: room
/// 房间:此刻在线的每个人。所有线程共享同一个,改动都在锁里做。
#[derive(Default)]
struct Room {
    members: Mutex<BTreeMap<u64, Member>>,
}

/// 房间里的一个人。
struct Member {
    nick: String,
    /// 这个人的信箱:放进去的每一行,由他的写线程写到他的连接上。
    outbox: SyncSender<Line>,
    /// 连接的一个副本,用来在他跟不上时把连接关掉。
    stream: TcpStream,
}

impl Room {
    fn lock(&self) -> MutexGuard<'_, BTreeMap<u64, Member>> {
        // 某个线程拿着锁时 panic 了,数据本身还是完整的(我们在锁里只做简单的增删改)。
        self.members.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// 让一个人进入房间。昵称已被占用时返回 Err,他还在门外。
    fn join(
        &self,
        id: u64,
        nick: &str,
        outbox: SyncSender<Line>,
        stream: TcpStream,
    ) -> Result<usize, String> {
        let mut members = self.lock();
        if members.values().any(|m| m.nick == nick) {
            return Err(format!("昵称 {nick} 已经有人用了,换一个吧"));
        }
        let nick = nick.to_owned();
        members.insert(
            id,
            Member {
                nick,
                outbox,
                stream,
            },
        );
        Ok(members.len())
    }

    /// 离开房间。返回他的昵称;他已经不在了(比如跟不上被请走了)就返回 None。
    fn leave(&self, id: u64) -> Option<String> {
        self.lock().remove(&id).map(|m| m.nick)
    }

    /// 在线的人的昵称,按进来的先后。
    fn names(&self) -> Vec<String> {
        self.lock().values().map(|m| m.nick.clone()).collect()
    }

    /// 改名。新昵称已被占用时返回 Err。成功时返回旧昵称。
    fn rename(&self, id: u64, new: &str) -> Result<String, String> {
        let mut members = self.lock();
        if members
            .iter()
            .any(|(&other, m)| other != id && m.nick == new)
        {
            return Err(format!("昵称 {new} 已经有人用了,换一个吧"));
        }
        let member = members.get_mut(&id).ok_or("你已经不在聊天室里了")?;
        Ok(std::mem::replace(&mut member.nick, new.to_owned()))
    }

    /// 找到叫 `nick` 的人的编号。
    fn find(&self, nick: &str) -> Option<u64> {
        self.lock()
            .iter()
            .find(|(_, m)| m.nick == nick)
            .map(|(&id, _)| id)
    }

    /// 发给一个人。
    fn tell(&self, id: u64, line: &str) {
        self.deliver(|other| other == id, line);
    }

    /// 发给除了 `from` 以外的所有人。
    fn broadcast(&self, from: u64, line: &str) {
        self.deliver(|other| other != from, line);
    }
    // ANCHOR_END: room

    // ANCHOR: deliver
    /// 把一行放进每个 `to(编号)` 为真的人的信箱。
    ///
    /// try_send 从不等待,所以在锁里做也很快;在锁里做还保证了所有人看到的消息顺序一样。
    /// 信箱满了的人被请出房间,其余的人收到通知;这条通知也可能让另一个跟不上的人
    /// 被请走,所以是个循环。
    fn deliver(&self, to: impl Fn(u64) -> bool, line: &str) {
        let mut members = self.lock();
        let mut too_slow = post(&members, &to, line);
        while !too_slow.is_empty() {
            let mut gone = Vec::new();
            for id in too_slow {
                if let Some(member) = members.remove(&id) {
                    // 关掉连接:他的读线程和写线程都会马上醒来、结束。
                    let _ = member.stream.shutdown(Shutdown::Both);
                    gone.push(member.nick);
                }
            }
            let names = gone.join(", ");
            println!(
                "{names} 跟不上消息,已被请出聊天室(在线 {} 人)",
                members.len()
            );
            let notice = format!("* {names} 跟不上消息,已被请出聊天室");
            too_slow = post(&members, &|_| true, &notice);
        }
    }
}

/// 第 3 步:把同一行放进每个 `to(编号)` 为真的人的信箱,返回信箱已满(跟不上)的人。
fn post(members: &BTreeMap<u64, Member>, to: &dyn Fn(u64) -> bool, line: &str) -> Vec<u64> {
    // TODO: 第 3 步:把同一行放进每个 to(编号) 为真的人的信箱,返回信箱满了的人的编号。
    //   - let line = Line::from(line); 然后每个人 Arc::clone(&line) 一份:文字只存一份。
    //   - 用 member.outbox.try_send(…),它从不等待:
    //     Ok → 放进去了;Err(TrySendError::Full(_)) → 这个人跟不上,记下他的编号;
    //     Err(TrySendError::Disconnected(_)) → 他的写线程已经结束(连接断了),跳过。
    //   - 千万别在这里写套接字:一个不读消息的人会让 write_all 一直等,整个房间跟着卡住。
    todo!("第 3 步:把一行放进每个人的信箱")
}
// ANCHOR_END: deliver

// ANCHOR: handle_client
/// 第 4 步:服务一个客户端,从连上到离开。它的写线程负责发,这个线程负责收。
fn handle_client(stream: TcpStream, id: u64, room: &Room) {
    // TODO: 第 4 步:服务一个客户端,从连上到离开。
    //   - 用 stream.peer_addr() 取对方地址(失败就警告一行、返回)。
    //   - 建一个容量有限的信箱:let (outbox, inbox) = sync_channel(OUTBOX_LINES);
    //     用 start_writer(&stream, inbox)(第 5 步)启动他的写线程。
    //   - let mut reader = BufReader::new(&stream);
    //     用 choose_nick(第 6 步)问到昵称;问到了,就用 chat(第 7 步)和他聊,直到他离开。
    //   - 离开时:room.leave(id) 返回 Some(昵称) 的话(他还在房间里),打印一行日志,
    //     再 room.broadcast(id, "* 昵称 离开了聊天室")。
    //   - 最后 drop(outbox),再 join 写线程:写线程写完信箱里剩下的行就关闭连接、结束。
    todo!("第 4 步:服务编号为 {id} 的客户端")
}
// ANCHOR_END: handle_client

// ANCHOR: writer
/// 第 5 步:启动写线程。它从信箱里取出一行行文字,写到连接上,直到信箱关闭或者写不出去。
fn start_writer(stream: &TcpStream, inbox: Receiver<Line>) -> Result<thread::JoinHandle<()>> {
    // TODO: 第 5 步:启动写线程:从信箱里取出一行行文字,写到连接上。
    //   - let stream = stream.try_clone()?; 再 set_write_timeout(Some(WRITE_TIMEOUT)),
    //     和 set_nodelay(true)(每一行立刻发出,见课本「第 5 步:写线程」)。
    //   - 线程里:while let Ok(line) = inbox.recv() { … } 每行写成「line + \n」。
    //     所有发信的一方(房间里的那份和 handle_client 手里的那份)都放下信箱以后,recv 返回 Err,循环结束。
    //   - 写失败(对方断开、写超时)就跳出循环。
    //   - 循环结束后 stream.shutdown(Shutdown::Both):关闭连接,读线程也会随之醒来。
    //   - 想更快:用 BufWriter,把 try_recv 能立刻拿到的行一起写完再 flush。
    todo!("第 5 步:启动写线程")
}
// ANCHOR_END: writer

// ANCHOR: choose_nick
/// 第 6 步:问昵称,直到得到一个合法又没人用的昵称。对方在这之前就走了,返回 None。
fn choose_nick(
    reader: &mut impl BufRead,
    stream: &TcpStream,
    id: u64,
    room: &Room,
    outbox: &SyncSender<Line>,
) -> Option<String> {
    // TODO: 第 6 步:问昵称,直到得到一个合法又没人用的昵称。
    //   - 他还没进房间,提示直接放进自己的信箱:outbox.try_send(Line::from("* 欢迎来到聊天室!请输入你的昵称"))。
    //   - 循环:用 read_line(第 8 步)读一行;Ok(None)(对方走了)或 Err 就返回 None。
    //   - check_nick(昵称.trim()) 不通过:回一行「! 原因」,接着等下一行。
    //   - room.join(id, 昵称, outbox.clone(), stream.try_clone()?):
    //     Err(重名)→ 回一行「! 原因」,接着等;
    //     Ok(在线人数)→ 打印日志,room.tell(id, "* 你好,昵称!现在在线 N 人: …"),
    //     room.broadcast(id, "* 昵称 进入了聊天室"),返回 Some(昵称)。
    todo!("第 6 步:问编号为 {id} 的客户端要昵称")
}
// ANCHOR_END: choose_nick

// ANCHOR: chat
/// 第 7 步:一行一行地读,照 [`parse`] 的意思办,直到对方离开或者说了 /quit。
fn chat(reader: &mut impl BufRead, id: u64, mut nick: String, room: &Room) -> Result<()> {
    // TODO: 第 7 步:一行一行地读,照 parse 的意思办,直到对方离开或者说了 /quit。
    //   - read_line 返回 Ok(None):对方走了,返回 Ok(())。
    //     返回 Err(比如一行太长):先 room.tell(id, "! 原因,你被断开了"),再返回这个错误。
    //   - match parse(&line) {
    //       Command::Say(text) → room.broadcast(id, "[昵称] " + clean(text))   (不发回给自己)
    //       Command::List → room.tell(id, "* 在线 N 人: a, b")
    //       Command::Nick(new) → check_nick 和 room.rename;成功时告诉自己「* 你现在叫 new」,
    //                             告诉别人「* old 改名为 new」,并更新 nick
    //       Command::Msg { to, text } → room.find(to),只 tell 他一个「[昵称 悄悄对你说] 内容」
    //       Command::Help → tell HELP;Command::Quit → tell「* 再见!」然后返回
    //       Command::Invalid(why) → tell「! why」;Command::Nothing → 什么也不做 }
    //   - 别人发来的文字转发前一定要 clean:控制字符不能到达别人的终端。
    todo!("第 7 步:和 {nick} 聊天")
}
// ANCHOR_END: chat

// ANCHOR: read_line
/// 第 8 步:读一行:读到 `\n` 为止(去掉行尾的 `\r\n` 或 `\n`),坏的 UTF-8 变成 �。
/// 对方关闭了连接时返回 `Ok(None)`;一行太长是一个错误,这个客户端会被断开。
fn read_line(reader: &mut impl BufRead) -> Result<Option<String>, LineError> {
    // TODO: 第 8 步:读一行:读到 \n 为止,去掉行尾的 \r\n 或 \n,坏的 UTF-8 变成 �。
    //   - 用 reader.by_ref().take((MAX_LINE + 2) as u64).read_until(b'\n', &mut bytes) 读字节:
    //     take 限制这一次最多读多少,一个不发换行的人吃不光内存;
    //     read_until 读字节,坏的 UTF-8 也不会出错(read_line 会)。
    //   - 读到 0 字节:对方关闭了连接,返回 Ok(None)。
    //   - 去掉换行以后还超过 MAX_LINE 字节:返回 Err(LineError::TooLong)。
    //   - 读出错:返回 Err(LineError::Io(err))。
    //   - 否则返回 Ok(Some(String::from_utf8_lossy(&bytes).into_owned()))。
    todo!("第 8 步:读一行")
}
// ANCHOR_END: read_line

/// 读一行时可能出的错。
#[derive(Debug)]
enum LineError {
    TooLong,
    Io(io::Error),
}

impl std::fmt::Display for LineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LineError::TooLong => write!(f, "一行最多 {MAX_LINE} 字节"),
            LineError::Io(err) => write!(f, "读取失败: {err}"),
        }
    }
}

impl std::error::Error for LineError {}
