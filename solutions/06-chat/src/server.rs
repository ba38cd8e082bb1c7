//! 聊天室服务器:每个客户端一个线程读、一个线程写,房间(谁在线)放在 `Arc<Mutex<…>>` 里共享。
//!
//! 为什么每个客户端还要一个「写线程」?如果在广播的时候直接 `write_all` 到每个人的连接,
//! 一个不读消息的客户端会让 write_all 卡住(它的接收缓冲区满了),整个房间跟着卡住。
//! 所以广播只是把一行放进每个人的「信箱」,真正写套接字的是每个人自己的写线程。
//!
//! 信箱按字节设上限。信箱满了,说话的人就等一等:服务器读他的速度,不超过送得出去的速度
//! (这叫「背压」)。但谁也不能让别人等太久:一个人的连接连续「写超时」那么久一个字节也
//! 写不进去,或者他的信箱满着、那么久都没腾出地方,他就是「跟不上」,被请出聊天室。
//!
//! 分成几个文件,一个文件管一件事:
//! - 门口(这个文件):绑定(第 1 步),接受连接、满员时请人离开(第 2 步);
//! - 房间([`room`]):谁在线,把一行交给收信人;
//! - 信箱([`outbox`]):放一行(第 3 步),写线程(第 5 步);
//! - 一个客户端([`session`]):从连上到离开(第 4 步),问昵称(第 6 步),聊天(第 7 步);
//! - 读一行([`line`](mod@line)):第 8 步,和报昵称的时限。

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

/// accept 失败以后,歇这么久再试。
const ACCEPT_PAUSE: Duration = Duration::from_millis(100);

/// 同一种警告最多每隔这么久打印一次(其余的只计数)。
const LOG_EVERY: Duration = Duration::from_secs(5);

/// 把满员的人请走时,最多等他这么久把已经发来的字节发完(见 [`turn_away`])。
const TURN_AWAY_WAIT: Duration = Duration::from_millis(50);

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
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

/// 打印一行警告到 stderr,同样不会因为 stderr 被关掉而 panic。
macro_rules! warn {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

mod line;
mod outbox;
mod room;
mod session;

use room::Room;
use session::handle_client;

// ANCHOR: bind
/// 第 1 步:绑定并开始监听,打印实际绑定的地址。
pub fn bind(host: &str, port: u16) -> Result<TcpListener> {
    // ANCHOR: step-1
    let listener =
        TcpListener::bind((host, port)).with_context(|| format!("无法绑定 {host}:{port}"))?;
    let addr = listener.local_addr().context("无法读取绑定的地址")?;
    log!("聊天服务器已启动,正在监听 {addr}");
    Ok(listener)
    // ANCHOR_END: step-1
}
// ANCHOR_END: bind

// ANCHOR: serve
/// 第 2 步:接受连接,每个客户端交给一个新线程。主线程只管 accept,所以谁也卡不住它。
pub fn serve(listener: &TcpListener, limits: Limits) -> Result<()> {
    // ANCHOR: step-2
    let room = Arc::new(Room::new(limits));
    let mut accept_errors = Throttle::default();
    // 每个连接一个编号,房间用它区分「谁」(昵称会变,编号不会)。
    for (id, incoming) in (1u64..).zip(listener.incoming()) {
        let stream = match incoming {
            Ok(stream) => stream,
            Err(err) => {
                // 常见的原因是文件描述符用完了(人太多)。这时 accept 会立刻、一次又一次地失败:
                // 歇一会儿再试,别让主线程空转;警告每 5 秒最多一行,别把日志刷满。
                if let Some(also) = accept_errors.due() {
                    warn!("警告: 接受连接失败,{ACCEPT_PAUSE:?} 后再试: {err}{also}");
                }
                thread::sleep(ACCEPT_PAUSE);
                continue;
            }
        };
        // 满员了:告诉他一声,关掉连接。先占座再开线程,满员时连线程都不用开。
        let Some(seat) = room.take_seat() else {
            turn_away(stream);
            continue;
        };
        let room = Arc::clone(&room);
        // thread::spawn 在系统不给线程时会 panic;Builder::spawn 把它变成一个错误,
        // 服务器只放弃这一个连接。
        let spawned = thread::Builder::new()
            .name(format!("client-{id}"))
            .spawn(move || handle_client(stream, id, &room, seat));
        if let Err(err) = spawned {
            warn!("警告: 无法为新连接创建线程,断开它: {err}");
        }
    }
    Ok(())
    // ANCHOR_END: step-2
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

/// 读写超时在 Unix 上是 WouldBlock,在 Windows 上是 TimedOut。
fn is_timeout(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
