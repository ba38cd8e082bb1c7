//! 聊天室服务器:每个客户端一个线程读、一个线程写,房间(谁在线)放在 `Arc<Mutex<…>>` 里共享。
//!
//! 为什么每个客户端还要一个「写线程」?如果在广播的时候直接 `write_all` 到每个人的连接,
//! 一个不读消息的客户端会让 write_all 卡住(它的接收缓冲区满了),整个房间跟着卡住。
//! 所以广播只是把一行放进每个人的「信箱」,真正写套接字的是每个人自己的写线程。
//!
//! 信箱按字节设上限。信箱满了,说话的人就等一等:服务器读他的速度,不超过送得出去的速度
//! (这叫「背压」)。但谁也不能让别人等太久:一个人的连接连续「写超时」那么久一个字节也
//! 写不进去,或者他的信箱满着、那么久都没腾出地方,他就是「跟不上」,被请出聊天室。

// 骨架里的 todo!() 让一些参数、导入和常量暂时用不上;所有步骤都写完以后,可以删掉下面这一行。
#![allow(unused_variables, unused_imports, dead_code, unused_mut, unused_macros)]

use std::collections::{BTreeMap, VecDeque};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use crate::protocol::{Command, HELP, MAX_LINE, check_nick, clean, parse};

/// 每个人的信箱最多存这么多字节的文字。满了,说话的人就等他的写线程腾出地方。
///
/// 256 KiB 是四千多行普通的话:人打字、贴一大段文字,都远远填不满一个读消息的人的信箱;
/// 一千个人都满着,也不过 256 MiB(而且大家存的是同一行文字的同一份)。
const OUTBOX_BYTES: usize = 256 * 1024;

/// accept 失败以后,歇这么久再试。
const ACCEPT_PAUSE: Duration = Duration::from_millis(100);

/// 同一种警告最多每隔这么久打印一次(其余的只计数)。
const LOG_EVERY: Duration = Duration::from_secs(5);

/// 把满员的人请走时,最多等他这么久把已经发来的字节发完(见 [`turn_away`])。
const TURN_AWAY_WAIT: Duration = Duration::from_millis(50);

/// 服务器发出的一行(末尾带着换行),大家共享同一份(广播给 100 个人也只存一份文字)。
type Line = Arc<str>;

/// 把一行文字变成要发出去的 [`Line`]:加上换行。
fn line(text: &str) -> Line {
    Line::from(format!("{text}\n"))
}

/// 「快路」:一个人的信箱空着、写线程闲着时,说话人的线程自己把这一行写给他,不用叫醒写线程。
/// 每送达一行省下两次线程切换;人多的时候,这就是省下的大部分功夫(见课本「能撑住多少人」)。
///
/// 说话人不能被一个不读消息的人卡住,所以快路上的写最多等 [`FAST_WRITE`]:写不进去,
/// 剩下的交给写线程。Windows 上写超时一旦触发,那个连接就处在「不确定」的状态,不能再用,
/// 所以那里不走快路,所有的行都交给写线程。
const FAST_PATH: bool = cfg!(unix);

/// 快路上一次写最多等多久(也是写线程每次 write 等多久,见 [`write_patiently`])。
const FAST_WRITE: Duration = Duration::from_millis(1);

/// 服务器的几个上限,来自命令行(见 main.rs)。
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// 最多同时有这么多个连接(包括还没报昵称的);再来的人收到「! 聊天室已满」。
    pub max_clients: usize,
    /// 连上以后,要在这么久之内报上一个合法的昵称。
    pub nick_timeout: Duration,
    /// 一个人的连接连续这么久写不进去(或者他的信箱这么久都腾不出地方),他就是跟不上。
    pub write_timeout: Duration,
}

/// 打印一行日志。和 println! 一样,但 stdout 被关掉了也不要紧。
///
/// 比如 `solution-06 server | head -n 1`:head 读完一行就走了,之后再写 stdout 会失败
/// (Rust 程序忽略 SIGPIPE,写失败是一个错误),而 println! 遇到错误就 panic。
/// 日志写不出去,不能连累正在聊天的人,所以这里把错误丢掉。
macro_rules! log {
    ($($arg:tt)*) => {{
        let _ = writeln!(io::stdout(), $($arg)*);
    }};
}

/// 打印一行警告到 stderr,同样不会因为 stderr 被关掉而 panic。
macro_rules! warn {
    ($($arg:tt)*) => {{
        let _ = writeln!(io::stderr(), $($arg)*);
    }};
}

// ANCHOR: bind
/// 第 1 步:绑定并开始监听,打印实际绑定的地址。
pub fn bind(host: &str, port: u16) -> Result<TcpListener> {
    // TODO: 第 1 步:在 (host, port) 上绑定并监听,打印实际绑定到的地址。
    //   - 和第 4 课一样:TcpListener::bind((host, port)),失败时用 with_context 说明是哪个地址。
    //   - 第一行输出必须含有 listener.local_addr() 的结果,例如
    //     「聊天服务器已启动,正在监听 127.0.0.1:2023」(评分时 port 是 0)。
    //   - 用 log!(…) 打印:它和 println! 一样,只是 stdout 被关掉了也不会 panic(课本「日志写不出去」)。
    todo!("第 1 步:在 {host}:{port} 上绑定聊天服务器,并打印实际地址")
}
// ANCHOR_END: bind

// ANCHOR: serve
/// 第 2 步:接受连接,每个客户端交给一个新线程。主线程只管 accept,所以谁也卡不住它。
pub fn serve(listener: &TcpListener, limits: Limits) -> Result<()> {
    // TODO: 第 2 步:接受连接,每个客户端交给一个新线程,主线程立刻回去 accept 下一个。
    //   - 先建一个所有线程共享的房间:let room = Arc::new(Room::new(limits));
    //   - 每个连接一个编号(1、2、3……):for (id, incoming) in (1u64..).zip(listener.incoming())
    //   - accept 失败:thread::sleep(ACCEPT_PAUSE) 再继续(文件描述符用完时,accept 会一次又一次地立刻失败,
    //     不歇一下主线程就会空转);警告用一个 Throttle 限制频率:循环前 let mut throttle = Throttle::default();,
    //     失败时 if let Some(also) = throttle.due() { warn!(…) }。
    //   - room.take_seat() 返回 None(满员了):turn_away(stream),接着 accept 下一个。
    //   - 每个线程拿一份 Arc::clone(&room) 和它的座位,在线程里调用 handle_client(stream, id, &room, seat)。
    //     用 thread::Builder::new().spawn(…):系统不给线程时它返回错误(thread::spawn 会 panic),
    //     这时警告一行,放弃这一个连接。
    todo!("第 2 步:循环接受连接,每个客户端一个线程")
}
// ANCHOR_END: serve

/// 满员时请来人离开:回一行原因,关闭连接。
///
/// 直接关闭一个还有没读完的数据的连接(比如客户端已经报了昵称),系统会发 RST,对方可能
/// 连我们的那一行都读不到。所以先关闭发送方向(对方读完这一行就读到 EOF),再把他已经发来的
/// 字节读掉,最多等一小会儿。
fn turn_away(stream: TcpStream) {
    let _ = (&stream).write_all("! 聊天室已满,请稍后再来\n".as_bytes());
    let _ = stream.shutdown(Shutdown::Write);
    let _ = stream.set_read_timeout(Some(TURN_AWAY_WAIT));
    let _ = io::copy(&mut (&stream).take(64 * 1024), &mut io::sink());
}

/// 限制同一种警告打印的频率:[`Throttle::due`] 在该打印时返回 Some(「其间又发生了几次」)。
#[derive(Default)]
struct Throttle {
    last: Option<Instant>,
    skipped: u64,
}

impl Throttle {
    fn due(&mut self) -> Option<String> {
        self.due_at(Instant::now())
    }

    /// 同 [`Throttle::due`],只是「现在」由调用者给出(测试用它模拟时间的流逝)。
    fn due_at(&mut self, now: Instant) -> Option<String> {
        if self
            .last
            .is_some_and(|last| now.saturating_duration_since(last) < LOG_EVERY)
        {
            self.skipped += 1;
            return None;
        }
        self.last = Some(now);
        let also = match std::mem::take(&mut self.skipped) {
            0 => String::new(),
            n => format!("(之前 {LOG_EVERY:?} 里还有 {n} 次)"),
        };
        Some(also)
    }
}

// ANCHOR: room
/// 房间:此刻在线的每个人。所有线程共享同一个,改动都在锁里做。
struct Room {
    members: Mutex<BTreeMap<u64, Member>>,
    /// 此刻开着的连接数(包括还没报昵称的)。
    seats: AtomicUsize,
    limits: Limits,
}

/// 房间里的一个人。
struct Member {
    nick: String,
    /// 这个人的信箱:放进去的每一行,由他的写线程写到他的连接上。
    outbox: Arc<Outbox>,
}

impl Room {
    fn new(limits: Limits) -> Room {
        Room {
            members: Mutex::default(),
            seats: AtomicUsize::new(0),
            limits,
        }
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<u64, Member>> {
        // 某个线程拿着锁时 panic 了,数据本身还是完整的(我们在锁里只做简单的增删改)。
        self.members.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// 占一个座位;已经有 max_clients 个连接了就返回 None。
    fn take_seat(self: &Arc<Self>) -> Option<Seat> {
        let max = self.limits.max_clients;
        self.seats
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < max).then_some(n + 1)
            })
            .ok()
            .map(|_| Seat(Arc::clone(self)))
    }

    /// 让一个人进入房间:欢迎他,告诉别人。昵称已被占用时返回 Err,他还在门外。
    ///
    /// 欢迎语在锁里、在他进入名单之前放进他的信箱:这样别人的话一定排在欢迎语后面。
    fn join(&self, id: u64, nick: &str, outbox: &Arc<Outbox>) -> Result<usize, String> {
        let mut members = self.lock();
        if members.values().any(|m| m.nick == nick) {
            return Err(format!("昵称 {nick} 已经有人用了,换一个吧"));
        }
        let online = members.len() + 1;
        let names: Vec<&str> = members
            .values()
            .map(|m| m.nick.as_str())
            .chain([nick])
            .collect();
        // 拿着房间的锁不能等待,所以不管信箱满没满,直接放进去(只多一行)。
        outbox.push(line(&format!(
            "* 你好,{nick}!现在在线 {online} 人: {}。输入 /help 查看命令",
            names.join(", ")
        )));
        let member = Member {
            nick: nick.to_owned(),
            outbox: Arc::clone(outbox),
        };
        members.insert(id, member);
        Ok(online)
    }

    /// 离开房间。返回他的昵称和剩下的人数;他已经不在了就返回 None。
    fn leave(&self, id: u64) -> Option<(String, usize)> {
        let mut members = self.lock();
        let gone = members.remove(&id)?;
        Some((gone.nick, members.len()))
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
    fn tell(&self, id: u64, text: &str) {
        self.deliver(|other| other == id, line(text));
    }

    /// 发给除了 `from` 以外的所有人。
    fn broadcast(&self, from: u64, text: &str) {
        self.deliver(|other| other != from, line(text));
    }

    /// 把攒好的几行(每行已经带着换行)一起发给除了 `from` 以外的所有人。
    fn broadcast_lines(&self, from: u64, lines: String) {
        if lines.is_empty() {
            return;
        }
        self.deliver(|other| other != from, Line::from(lines));
    }
    // ANCHOR_END: room

    // ANCHOR: deliver
    /// 把一行放进每个 `to(编号)` 为真的人的信箱。
    ///
    /// 先在锁里记下收信人的信箱,放开锁,再一个个地放:放信可能要等(信箱满了),
    /// 等的时候不能拿着房间的锁,否则别人连进门、离开、说话都做不了。
    /// 同一个人说的话由他自己的线程按顺序放,所以每个人收到的他的话,顺序都和他说的一样。
    fn deliver(&self, to: impl Fn(u64) -> bool, line: Line) {
        let outboxes: Vec<Arc<Outbox>> = self
            .lock()
            .iter()
            .filter(|(id, _)| to(**id))
            .map(|(_, m)| Arc::clone(&m.outbox))
            .collect();
        for outbox in outboxes {
            outbox.post(&line, self.limits.write_timeout);
        }
    }
}
// ANCHOR_END: deliver

/// 一个连接占着的座位(见 [`Room::take_seat`]):连接的线程拿着它,线程结束时座位空出来。
struct Seat(Arc<Room>);

impl Drop for Seat {
    fn drop(&mut self) {
        self.0.seats.fetch_sub(1, Ordering::SeqCst);
    }
}

// ANCHOR: outbox
/// 一个人的信箱:等着写给他的行。说话人的线程往里放,他的写线程从里面取。
struct Outbox {
    queue: Mutex<Queue>,
    /// 信箱里有了新的行,或者关门了:叫醒写线程。
    filled: Condvar,
    /// 写线程取走了行,或者关门了:叫醒等着放信的说话人。
    emptied: Condvar,
    /// 他的连接(和读线程、写线程共用同一个):跟不上时用它把连接关掉。
    stream: Arc<TcpStream>,
}

struct Queue {
    /// 上一次快路没写完的那一行剩下的字节:要最先写。
    rest: Vec<u8>,
    lines: VecDeque<Line>,
    /// 信箱里所有行的字节数(加上换行)。
    bytes: usize,
    /// 关门了:不再收新的行。写线程写完剩下的就结束。
    closed: bool,
    /// 是因为他跟不上才关门的。
    too_slow: bool,
    /// 写线程的耐心从这一刻算起:它上一次从信箱里取信的时刻,或者信箱从空变成有信的时刻,
    /// 取较晚的那个。信箱空着的时候写线程没有事可做,那段时间不能算作它「跟不上」:
    /// 否则安静了一阵之后,一下子涌来的一批信会在写线程醒来之前就把信箱塞满,
    /// 一个读得好好的人就被当成跟不上请走了。
    taken: Instant,
    /// 写线程正拿着取走的行在写:这时不能走快路,否则顺序会乱。
    writing: bool,
}

impl Queue {
    /// 放进一行;关门了就不放,返回 false。
    fn push(&mut self, line: Line) -> bool {
        if self.closed {
            return false;
        }
        if self.is_empty() {
            self.taken = Instant::now();
        }
        self.bytes += line.len();
        self.lines.push_back(line);
        true
    }

    fn is_empty(&self) -> bool {
        self.rest.is_empty() && self.lines.is_empty()
    }
}

/// 写线程从信箱里取东西的结果。
enum Take {
    /// 上次没写完的字节,和信箱里攒着的全部行。
    Lines(Vec<u8>, Vec<Line>),
    /// 关门了,也取完了:写线程该结束了。
    Done,
}

impl Outbox {
    fn new(stream: Arc<TcpStream>) -> Outbox {
        Outbox {
            queue: Mutex::new(Queue {
                rest: Vec::new(),
                lines: VecDeque::new(),
                bytes: 0,
                closed: false,
                too_slow: false,
                taken: Instant::now(),
                writing: false,
            }),
            filled: Condvar::new(),
            emptied: Condvar::new(),
            stream,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// 第 3 步:放一行。信箱满了就等写线程腾出地方(背压)。信箱里有信等着,他的写线程却已经
    /// `patience` 没来取了,信箱还是满的:他跟不上,请他离开,这一行就不给他了。
    fn post(&self, line: &Line, patience: Duration) {
        // TODO: 第 3 步:把一行放进这个信箱;满了就等(背压),等太久就请他离开。
        //   - let mut queue = self.lock();
        //   - 信箱满了(queue.bytes > 0 并且 queue.bytes + line.len() > OUTBOX_BYTES)、又没关门时,循环等:
        //     从 queue.taken(写线程上一次取信、或者信箱从空变成有信的时刻)算起,已经过了 patience,就 drop(queue)、
        //     self.give_up(true)(他跟不上),返回;
        //     否则 self.emptied.wait_timeout(queue, 剩下的时间) 等写线程取走一些
        //     (它返回 LockResult<(锁, 超时与否)>:.unwrap_or_else(PoisonError::into_inner).0 取回锁)。
        //   - 关门了(queue.closed)就返回。
        //   - 快路:FAST_PATH && queue.is_empty() && !queue.writing 时,self.write_now(&mut queue, line)
        //     自己写一次(返回 Err 说明他断开了:drop(queue),self.give_up(false)),然后返回。
        //   - 否则 queue.push(Arc::clone(line)) 为 true 时,self.filled.notify_one() 叫醒写线程。
        //   - 千万别在这里用 write_all 写套接字:一个不读消息的人会让它一直等。
        todo!("第 3 步:把一行放进信箱")
    }

    /// 快路:说话人的线程直接写一次,最多等 [`FAST_WRITE`]。没写完的部分放进信箱,叫醒写线程。
    /// 连接出了错(对方断开了)返回 Err。调用时拿着信箱的锁:这时没有别人在写这个连接。
    fn write_now(&self, queue: &mut Queue, line: &Line) -> Result<(), ()> {
        let bytes = line.as_bytes();
        let written = match (&*self.stream).write(bytes) {
            Ok(n) => n,
            Err(err) if is_timeout(&err) || err.kind() == io::ErrorKind::Interrupted => 0,
            Err(_) => return Err(()),
        };
        if written < bytes.len() {
            // 快路只在信箱空着时走:写线程的耐心从现在算起(见 Queue::taken)。
            queue.taken = Instant::now();
            queue.rest.extend_from_slice(&bytes[written..]);
            queue.bytes += bytes.len() - written;
            self.filled.notify_one();
        }
        Ok(())
    }

    /// 不管满没满,放进一行(关门了就不放),叫醒写线程。
    fn push(&self, line: Line) {
        if self.lock().push(line) {
            self.filled.notify_one();
        }
    }

    /// 写线程:上一批写完了;等到信箱里有东西,把攒着的全部取走。
    fn take(&self) -> Take {
        let mut queue = self.lock();
        queue.writing = false;
        while queue.is_empty() && !queue.closed {
            queue = self
                .filled
                .wait(queue)
                .unwrap_or_else(PoisonError::into_inner);
        }
        if queue.is_empty() {
            return Take::Done;
        }
        queue.writing = true;
        queue.bytes = 0;
        queue.taken = Instant::now();
        let rest = std::mem::take(&mut queue.rest);
        let lines = queue.lines.drain(..).collect();
        self.emptied.notify_all();
        Take::Lines(rest, lines)
    }

    /// 关门:不再收新的行,写线程写完剩下的行就结束。
    fn close(&self) {
        self.lock().closed = true;
        self.filled.notify_all();
        self.emptied.notify_all();
    }

    /// 放弃这个人:扔掉信箱里的行,关掉连接。他的读线程会醒来(Windows 上由 [`Timed`] 自己
    /// 醒来发现),让他离开房间。
    fn give_up(&self, too_slow: bool) {
        {
            let mut queue = self.lock();
            queue.closed = true;
            queue.too_slow |= too_slow;
            queue.lines.clear();
            queue.rest.clear();
            queue.bytes = 0;
        }
        self.filled.notify_all();
        self.emptied.notify_all();
        let _ = self.stream.shutdown(Shutdown::Both);
    }

    /// 信箱关了吗(关门,或者放弃了他)。
    fn is_closed(&self) -> bool {
        self.lock().closed
    }

    /// 他是因为跟不上才被请走的吗?
    fn too_slow(&self) -> bool {
        self.lock().too_slow
    }
}
// ANCHOR_END: outbox

// ANCHOR: handle_client
/// 第 4 步:服务一个客户端,从连上到离开。它的写线程负责发,这个线程负责收。
fn handle_client(stream: TcpStream, id: u64, room: &Room, seat: Seat) {
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

// ANCHOR: writer
/// 第 5 步:启动写线程。它从信箱里取出攒着的行,一次写到连接上,直到信箱关门或者写不出去。
fn start_writer(outbox: Arc<Outbox>, write_timeout: Duration) -> Result<thread::JoinHandle<()>> {
    // TODO: 第 5 步:启动写线程:从信箱里取出攒着的行,一次写到连接上。
    //   - let stream = Arc::clone(&outbox.stream); 再 stream.set_nodelay(true)(每一行立刻发出,见课本「第 5 步:写线程」)。
    //   - 每一次 write 最多等多久:let slice = if FAST_PATH { FAST_WRITE } else { write_timeout };
    //     stream.set_write_timeout(Some(slice))。快路(第 3 步)上的说话人也用这个时限写,所以它要很短;
    //     连续 write_timeout 写不进去才算跟不上,这由 write_patiently 来数。
    //   - 用 thread::Builder::new().spawn(move || { … }) 开线程(系统不给线程时返回错误,不会 panic),
    //     返回它的 JoinHandle。线程里:
    //     while let Take::Lines(mut batch, lines) = outbox.take() { … }:batch 是上一次快路没写完的字节,
    //     把 lines 里的每一行接在它后面(每一行已经带着 \n,不要再加),
    //     再 write_patiently(&stream, &batch, write_timeout) 一次写出去。信箱关门、也取完了,循环结束。
    //   - write_patiently 失败:is_timeout(&err) 为真说明他跟不上,outbox.give_up(true);
    //     别的错误说明他断开了,outbox.give_up(false)。然后结束线程。
    //   - 循环正常结束后 stream.shutdown(Shutdown::Both):关闭连接,读线程也会随之醒来。
    todo!("第 5 步:启动写线程")
}
// ANCHOR_END: writer

/// 把 `bytes` 全部写出去。每一次 write 只等一小会儿(见 [`FAST_WRITE`]);
/// 连续 `patience` 一个字节也写不进去,就返回超时错误。
fn write_patiently(stream: &TcpStream, mut bytes: &[u8], patience: Duration) -> io::Result<()> {
    let mut progress = Instant::now();
    while !bytes.is_empty() {
        match (&*stream).write(bytes) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => {
                bytes = &bytes[n..];
                progress = Instant::now();
            }
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) if is_timeout(&err) && progress.elapsed() < patience => {}
            Err(err) => return Err(err),
        }
    }
    Ok(())
}

/// 写超时在 Unix 上是 WouldBlock,在 Windows 上是 TimedOut。
fn is_timeout(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

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

// ANCHOR: read_line
/// 第 8 步:读一行:读到 `\n` 为止(去掉行尾的 `\r\n` 或 `\n`),坏的 UTF-8 变成 �。
/// 对方关闭了连接时返回 `Ok(None)`;一行太长、超时都是错误,这个客户端会被断开。
fn read_line(reader: &mut impl BufRead) -> Result<Option<String>, LineError> {
    // TODO: 第 8 步:读一行:读到 \n 为止,去掉行尾的 \r\n 或 \n,坏的 UTF-8 变成 �。
    //   - 用 reader.by_ref().take((MAX_LINE + 2) as u64).read_until(b'\n', &mut bytes) 读字节:
    //     take 限制这一次最多读多少,一个不发换行的人吃不光内存;
    //     read_until 读字节,坏的 UTF-8 也不会出错(read_line 会)。
    //   - 读出错:.map_err(LineError::from)?(超时会变成 LineError::TimedOut)。
    //   - 读到 0 字节:对方关闭了连接,返回 Ok(None)。
    //   - 去掉换行以后还超过 MAX_LINE 字节:返回 Err(LineError::TooLong)。
    //   - 否则返回 Ok(Some(String::from_utf8_lossy(&bytes).into_owned()))。
    todo!("第 8 步:读一行")
}
// ANCHOR_END: read_line

// ANCHOR: timed
/// 一个可以设「截止时间」的读端:截止时间之前,每一次 read 最多只等到截止时间;
/// 过了截止时间,read 返回 TimedOut。没有截止时间时,就是普通的阻塞读。
///
/// 为什么不直接用 set_read_timeout?它管的是「一次 read」,不是「一整行」:
/// 一个每隔几秒发一个字节的人,每次 read 都不超时,却能一直占着这个连接。
///
/// 它还留意这个人的信箱:信箱关了(他跟不上被放弃了),read 就像连接关闭一样返回 0。
/// Linux 和 macOS 上,放弃他时的 shutdown 本来就会叫醒阻塞在 read 上的线程;Windows 上不会
/// (rust-lang/rust#121594),所以在 Windows 上每次 read 最多等 [`WAKE`],醒来看一眼信箱。
struct Timed<'a> {
    stream: &'a TcpStream,
    outbox: &'a Outbox,
    deadline: Option<Instant>,
    /// 上一次 read 用的超时,没变就不用再告诉系统一遍。
    timeout: Option<Duration>,
}

/// Windows 上,读线程最多这么久醒来一次,看看他是不是已经被放弃了(见 [`Timed`])。
const WAKE: Option<Duration> = if cfg!(windows) {
    Some(Duration::from_millis(200))
} else {
    None
};

impl<'a> Timed<'a> {
    fn new(stream: &'a TcpStream, outbox: &'a Outbox) -> Timed<'a> {
        Timed {
            stream,
            outbox,
            deadline: None,
            timeout: None,
        }
    }
}

impl Read for Timed<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if self.outbox.is_closed() {
                return Ok(0);
            }
            let left = match self.deadline {
                None => None,
                Some(deadline) => match deadline.checked_duration_since(Instant::now()) {
                    Some(left) if !left.is_zero() => Some(left),
                    _ => return Err(io::ErrorKind::TimedOut.into()),
                },
            };
            let timeout = match (left, WAKE) {
                (Some(left), Some(wake)) => Some(left.min(wake)),
                (left, wake) => left.or(wake),
            };
            if timeout != self.timeout {
                self.stream.set_read_timeout(timeout)?;
                self.timeout = timeout;
            }
            match self.stream.read(buf) {
                // 只是醒来看一眼(还没到截止时间):回到开头,看信箱,再读。
                Err(err) if is_timeout(&err) && timeout != left => continue,
                result => return result,
            }
        }
    }
}
// ANCHOR_END: timed

/// 读一行时可能出的错。
#[derive(Debug)]
enum LineError {
    TooLong,
    TimedOut,
    Io(io::Error),
}

impl From<io::Error> for LineError {
    fn from(err: io::Error) -> LineError {
        match err.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => LineError::TimedOut,
            _ => LineError::Io(err),
        }
    }
}

impl std::fmt::Display for LineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LineError::TooLong => write!(f, "一行最多 {MAX_LINE} 字节"),
            LineError::TimedOut => write!(f, "太久没有报上昵称,再见"),
            LineError::Io(err) => write!(f, "读取失败: {err}"),
        }
    }
}

impl std::error::Error for LineError {}

#[cfg(test)]
mod tests {
    use super::*;

    fn queue_idle_since(since: Instant) -> Queue {
        Queue {
            rest: Vec::new(),
            lines: VecDeque::new(),
            bytes: 0,
            closed: false,
            too_slow: false,
            taken: since,
            writing: false,
        }
    }

    /// 一秒失败十次,5 秒里只打印一行警告;下一行带上这期间没打印的次数,然后从头数。
    #[test]
    fn the_throttle_prints_once_per_period_and_counts_the_rest() {
        let start = Instant::now();
        let at = |ms: u64| start + Duration::from_millis(ms);
        let mut throttle = Throttle::default();
        assert_eq!(throttle.due_at(at(0)).as_deref(), Some(""), "第一次要打印");
        // 每 100 毫秒失败一次(服务器每次 accept 失败以后歇 100 毫秒):5 秒之内都不打印。
        for ms in (100..5000).step_by(100) {
            assert_eq!(throttle.due_at(at(ms)), None, "{ms} 毫秒时又打印了");
        }
        let second = throttle.due_at(at(5000)).expect("过了 5 秒要再打印一行");
        assert!(
            second.contains("49 次"),
            "要说出其间没打印的 49 次: {second}"
        );
        // 计数从头开始,时间也从这一行算起。
        assert_eq!(throttle.due_at(at(9900)), None);
        let third = throttle.due_at(at(10_000)).expect("又过了 5 秒");
        assert!(third.contains(" 1 次"), "{third}");
    }

    /// 安静了很久的信箱收到第一封信:写线程的耐心从现在算起,而不是从它上一次取信算起。
    #[test]
    fn patience_starts_when_the_first_line_arrives() {
        let long_ago = Instant::now() - Duration::from_secs(60);
        let mut queue = queue_idle_since(long_ago);
        assert!(queue.push(Arc::from("* 小明 加入了聊天室\n")));
        assert!(queue.taken > long_ago, "第一封信来了,耐心要从这一刻算起");
        // 信箱里已经有信时,再来的信不重新计时:写线程一直不来取,耐心照样会用完。
        let first = queue.taken;
        assert!(queue.push(Arc::from("[小明] 你好\n")));
        assert_eq!(queue.taken, first);
    }
}
