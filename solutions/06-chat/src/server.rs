//! 聊天室服务器:每个客户端一个线程读、一个线程写,房间(谁在线)放在 `Arc<Mutex<…>>` 里共享。
//!
//! 为什么每个客户端还要一个「写线程」?如果在广播的时候直接 `write_all` 到每个人的连接,
//! 一个不读消息的客户端会让 write_all 卡住(它的接收缓冲区满了),整个房间跟着卡住。
//! 所以广播只是把一行放进每个人的「信箱」(容量有限的队列),`try_send` 从不等待;
//! 信箱满了,说明这个人跟不上,就请他离开。真正写套接字的是每个人自己的写线程。

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
    // ANCHOR: step-1
    let listener =
        TcpListener::bind((host, port)).with_context(|| format!("无法绑定 {host}:{port}"))?;
    let addr = listener.local_addr().context("无法读取绑定的地址")?;
    println!("聊天服务器已启动,正在监听 {addr}");
    Ok(listener)
    // ANCHOR_END: step-1
}
// ANCHOR_END: bind

// ANCHOR: serve
/// 第 2 步:接受连接,每个客户端交给一个新线程。主线程只管 accept,所以谁也卡不住它。
pub fn serve(listener: &TcpListener) -> Result<()> {
    // ANCHOR: step-2
    let room = Arc::new(Room::default());
    // 每个连接一个编号,房间用它区分「谁」(昵称会变,编号不会)。
    for (id, incoming) in (1u64..).zip(listener.incoming()) {
        let stream = match incoming {
            Ok(stream) => stream,
            Err(err) => {
                // 常见的原因是文件描述符用完了(人太多)。这时 accept 会立刻、一次又一次地失败:
                // 歇一会儿再试,别让主线程空转、把日志刷满。
                eprintln!("警告: 接受连接失败,{ACCEPT_PAUSE:?} 后再试: {err}");
                thread::sleep(ACCEPT_PAUSE);
                continue;
            }
        };
        let room = Arc::clone(&room);
        // thread::spawn 在系统不给线程时会 panic;Builder::spawn 把它变成一个错误,
        // 服务器只放弃这一个连接。
        let spawned = thread::Builder::new()
            .name(format!("client-{id}"))
            .spawn(move || handle_client(stream, id, &room));
        if let Err(err) = spawned {
            eprintln!("警告: 无法为新连接创建线程,断开它: {err}");
        }
    }
    Ok(())
    // ANCHOR_END: step-2
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
    // ANCHOR: step-3
    let line = Line::from(line);
    let mut too_slow = Vec::new();
    for (&id, member) in members.iter().filter(|(id, _)| to(**id)) {
        match member.outbox.try_send(Arc::clone(&line)) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => too_slow.push(id),
            // 他的写线程已经结束了(连接断了);他自己的读线程很快会让他离开房间。
            Err(TrySendError::Disconnected(_)) => {}
        }
    }
    too_slow
    // ANCHOR_END: step-3
}
// ANCHOR_END: deliver

// ANCHOR: handle_client
/// 第 4 步:服务一个客户端,从连上到离开。它的写线程负责发,这个线程负责收。
fn handle_client(stream: TcpStream, id: u64, room: &Room) {
    // ANCHOR: step-4
    let peer = match stream.peer_addr() {
        Ok(peer) => peer,
        Err(err) => {
            eprintln!("警告: 连接已经断开,读不到对方地址: {err}");
            return;
        }
    };
    let (outbox, inbox) = sync_channel(OUTBOX_LINES);
    let writer = match start_writer(&stream, inbox) {
        Ok(writer) => writer,
        Err(err) => {
            eprintln!("警告: 无法服务 {peer}: {err:#}");
            return;
        }
    };
    let mut reader = BufReader::new(&stream);

    if let Some(nick) = choose_nick(&mut reader, &stream, id, room, &outbox) {
        if let Err(err) = chat(&mut reader, id, nick, room) {
            eprintln!("警告: {peer}: {err:#}");
        }
        if let Some(nick) = room.leave(id) {
            let online = room.names().len();
            println!("{nick} 离开了聊天室(在线 {online} 人)");
            room.broadcast(id, &format!("* {nick} 离开了聊天室"));
        }
    }
    // 放下自己手里的信箱;房间里的那份在 leave 时已经放下了。写线程把信箱里剩下的
    // 写完(比如「再见」),就关闭连接、结束。等它结束,这个客户端就什么也没留下。
    drop(outbox);
    let _ = writer.join();
    // ANCHOR_END: step-4
}
// ANCHOR_END: handle_client

// ANCHOR: writer
/// 第 5 步:启动写线程。它从信箱里取出一行行文字,写到连接上,直到信箱关闭或者写不出去。
fn start_writer(stream: &TcpStream, inbox: Receiver<Line>) -> Result<thread::JoinHandle<()>> {
    // ANCHOR: step-5
    let stream = stream.try_clone().context("无法复制连接")?;
    stream
        .set_write_timeout(Some(WRITE_TIMEOUT))
        .context("无法设置写超时")?;
    // 关掉 Nagle 算法:它会把紧跟在上一次写后面的小块数据扣住,等对方确认了上一块再发,
    // 遇上对方的「延迟确认」,一句话就要多等几十毫秒。聊天要的是快,每一块都立刻发出去。
    stream.set_nodelay(true).context("无法设置 TCP_NODELAY")?;
    let writer = thread::Builder::new()
        .name("writer".to_owned())
        .spawn(move || {
            let mut out = BufWriter::new(&stream);
            // recv 在信箱空着时等待;所有发信的一方都放下信箱后,它返回 Err,循环结束。
            'lines: while let Ok(line) = inbox.recv() {
                let mut next = Some(line);
                // 把此刻信箱里攒着的行一起写出去,再 flush:一次系统调用写很多行。
                while let Some(line) = next {
                    if writeln!(out, "{line}").is_err() {
                        break 'lines;
                    }
                    next = inbox.try_recv().ok();
                }
                if out.flush().is_err() {
                    break;
                }
            }
            // 写完了,或者写不出去了(对方断开、超时):关掉连接,读线程也会随之醒来。
            drop(out);
            let _ = stream.shutdown(Shutdown::Both);
        })
        .context("无法创建写线程")?;
    Ok(writer)
    // ANCHOR_END: step-5
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
    // ANCHOR: step-6
    // 还没进房间,所以直接放进自己的信箱。
    let say = |line: String| {
        let _ = outbox.try_send(Line::from(line));
    };
    say("* 欢迎来到聊天室!请输入你的昵称".to_owned());
    loop {
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
        let Ok(stream) = stream.try_clone() else {
            return None;
        };
        match room.join(id, nick, outbox.clone(), stream) {
            Ok(online) => {
                println!("{nick} 进入了聊天室(在线 {online} 人)");
                let names = room.names().join(", ");
                room.tell(
                    id,
                    &format!("* 你好,{nick}!现在在线 {online} 人: {names}。输入 /help 查看命令"),
                );
                room.broadcast(id, &format!("* {nick} 进入了聊天室"));
                return Some(nick.to_owned());
            }
            Err(why) => say(format!("! {why}")),
        }
    }
    // ANCHOR_END: step-6
}
// ANCHOR_END: choose_nick

// ANCHOR: chat
/// 第 7 步:一行一行地读,照 [`parse`] 的意思办,直到对方离开或者说了 /quit。
fn chat(reader: &mut impl BufRead, id: u64, mut nick: String, room: &Room) -> Result<()> {
    // ANCHOR: step-7
    loop {
        let line = match read_line(reader) {
            Ok(Some(line)) => line,
            Ok(None) => return Ok(()),
            Err(err) => {
                room.tell(id, &format!("! {err},你被断开了"));
                return Err(err.into());
            }
        };
        match parse(&line) {
            Command::Nothing => {}
            Command::Say(text) => room.broadcast(id, &format!("[{nick}] {}", clean(text))),
            Command::List => {
                let names = room.names();
                room.tell(
                    id,
                    &format!("* 在线 {} 人: {}", names.len(), names.join(", ")),
                );
            }
            Command::Nick(new) => match check_nick(new).and_then(|()| room.rename(id, new)) {
                Ok(old) => {
                    println!("{old} 改名为 {new}");
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

// ANCHOR: read_line
/// 第 8 步:读一行:读到 `\n` 为止(去掉行尾的 `\r\n` 或 `\n`),坏的 UTF-8 变成 �。
/// 对方关闭了连接时返回 `Ok(None)`;一行太长是一个错误,这个客户端会被断开。
fn read_line(reader: &mut impl BufRead) -> Result<Option<String>, LineError> {
    // ANCHOR: step-8
    let mut bytes = Vec::new();
    // take 限制这一次最多读多少字节:再长的一行也只会占用 MAX_LINE 多一点的内存。
    let limit = (MAX_LINE + 2) as u64;
    let n = reader
        .by_ref()
        .take(limit)
        .read_until(b'\n', &mut bytes)
        .map_err(LineError::Io)?;
    if n == 0 {
        return Ok(None);
    }
    if bytes.ends_with(b"\n") {
        bytes.pop();
        if bytes.ends_with(b"\r") {
            bytes.pop();
        }
    }
    if bytes.len() > MAX_LINE {
        return Err(LineError::TooLong);
    }
    Ok(Some(String::from_utf8_lossy(&bytes).into_owned()))
    // ANCHOR_END: step-8
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
