//! 每个人的信箱(第 3 步)和把信箱里的行写到连接上的写线程(第 5 步)。

use std::collections::VecDeque;
use std::io::{self, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use super::is_timeout;
use super::room::Line;

/// 每个人的信箱最多存这么多字节的文字。满了,说话的人就等他的写线程腾出地方。
///
/// 256 KiB 是四千多行普通的话:人打字、贴一大段文字,都远远填不满一个读消息的人的信箱;
/// 一千个人都满着,也不过 256 MiB(而且大家存的是同一行文字的同一份)。
const OUTBOX_BYTES: usize = 256 * 1024;

/// 「快路」:一个人的信箱空着、写线程闲着时,说话人的线程自己把这一行写给他,不用叫醒写线程。
/// 每送达一行省下两次线程切换;人多的时候,这就是省下的大部分功夫(见课本「能撑住多少人」)。
///
/// 说话人不能被一个不读消息的人卡住,所以快路上的写最多等 [`FAST_WRITE`]:写不进去,
/// 剩下的交给写线程。Windows 上写超时一旦触发,那个连接就处在「不确定」的状态,不能再用,
/// 所以那里不走快路,所有的行都交给写线程。
const FAST_PATH: bool = cfg!(unix);

/// 快路上一次写最多等多久(也是写线程每次 write 等多久,见 [`write_patiently`])。
const FAST_WRITE: Duration = Duration::from_millis(1);

// ANCHOR: outbox
/// 一个人的信箱:等着写给他的行。说话人的线程往里放,他的写线程从里面取。
pub(super) struct Outbox {
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
    pub(super) fn new(stream: Arc<TcpStream>) -> Outbox {
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
    pub(super) fn post(&self, line: &Line, patience: Duration) {
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
    pub(super) fn push(&self, line: Line) {
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
    pub(super) fn close(&self) {
        self.lock().closed = true;
        self.filled.notify_all();
        self.emptied.notify_all();
    }

    /// 放弃这个人:扔掉信箱里的行,关掉连接。他的读线程会醒来(Windows 上由 [`Timed`](super::line::Timed) 自己
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
    pub(super) fn is_closed(&self) -> bool {
        self.lock().closed
    }

    /// 他是因为跟不上才被请走的吗?
    pub(super) fn too_slow(&self) -> bool {
        self.lock().too_slow
    }
}
// ANCHOR_END: outbox

// ANCHOR: writer
/// 第 5 步:启动写线程。它从信箱里取出攒着的行,一次写到连接上,直到信箱关门或者写不出去。
pub(super) fn start_writer(
    outbox: Arc<Outbox>,
    write_timeout: Duration,
) -> Result<thread::JoinHandle<()>> {
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
