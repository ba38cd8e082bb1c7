//! 等待时的状态行:一项检查等了一秒以上,终端上就显示一行「第 7 项:等服务器回复…(最多 5 秒)」,
//! 让学员知道评分器没有卡住;等到了(或者期限到了)就把这一行擦掉,再打印结论。
//!
//! 只在 stderr 是终端时显示(管道、CI 的日志里什么也不多)。`COURSE_STATUS=0` 可以关掉它。
//! 一个后台线程每隔一会儿看一眼「现在在等什么」,需要时重画这一行;它用带期限的
//! `Condvar` 等待,从不 sleep。

use std::io::{IsTerminal, Write as _};
use std::sync::{Condvar, Mutex, MutexGuard, OnceLock, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

/// 等了这么久还没等到,才显示状态行:短暂的等待不值得闪一下。
const SHOW_AFTER: Duration = Duration::from_secs(1);
/// 状态行多久重画一次。
const REFRESH: Duration = Duration::from_millis(250);

/// 此刻正在进行的等待(后来的在最后,显示的是最后一个)。
#[derive(Default)]
struct Board {
    waits: Vec<Wait>,
    next_id: u64,
    /// 终端上现在是不是画着一行状态(擦掉它之前不能打印别的)。
    drawn: bool,
}

struct Wait {
    id: u64,
    /// 哪一项检查在等(0 表示不在任何一项里)。同时有好几项在等时,显示编号最小的那一项:
    /// 它的结果最先要用到。
    step: usize,
    /// 「第 7 项:等服务器回复」
    what: String,
    /// 最多等几秒(向上取整)。
    limit: u64,
    since: Instant,
}

struct Shared {
    board: Mutex<Board>,
    changed: Condvar,
}

thread_local! {
    /// 这个线程正在运行第几项检查(0 表示不在任何一项里);由评分器在每一项开始时设置。
    static STEP: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

thread_local! {
    /// 评分器这一刻在和谁打交道:最近启动的那个被测程序(「服务器」「客户端」)。
    static PEER: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
}

/// 记下这个线程正在运行第几项检查(状态行的开头)。
pub fn set_step(number: usize) {
    STEP.with(|step| step.set(number));
}

/// 记下评分器这一刻在和谁打交道(评分器启动被测程序时调用)。
pub fn set_peer(label: &str) {
    PEER.with(|peer| *peer.borrow_mut() = label.to_owned());
}

/// 开始等对方(最近启动的被测程序)做某件事,比如「发来数据」:状态行是「等服务器发来数据」。
pub fn waiting_for_peer(what: &str, limit: Duration) -> Waiting {
    let peer = PEER.with(|peer| peer.borrow().clone());
    let peer = if peer.is_empty() {
        "对方".to_owned()
    } else {
        peer
    };
    waiting(&format!("{peer}{what}"), limit)
}

/// 一次等待。它被 drop 时,状态行随之擦掉。
#[must_use = "Waiting 被 drop 时,状态行就擦掉了"]
pub struct Waiting {
    id: Option<u64>,
}

/// 开始等 `what`(比如「服务器回复」),最多等 `limit`。
pub fn waiting(what: &str, limit: Duration) -> Waiting {
    let Some(shared) = shared() else {
        return Waiting { id: None };
    };
    let step = STEP.with(std::cell::Cell::get);
    let prefix = match step {
        0 => String::new(),
        n => format!("第 {n} 项:"),
    };
    let mut board = lock(shared);
    board.next_id += 1;
    let id = board.next_id;
    board.waits.push(Wait {
        id,
        step,
        what: format!("{prefix}等{what}"),
        limit: limit.as_millis().div_ceil(1000) as u64,
        since: Instant::now(),
    });
    shared.changed.notify_all();
    Waiting { id: Some(id) }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        let (Some(id), Some(shared)) = (self.id, shared()) else {
            return;
        };
        let mut board = lock(shared);
        board.waits.retain(|w| w.id != id);
        if board.drawn {
            erase();
            board.drawn = false;
        }
        shared.changed.notify_all();
    }
}

/// 需要显示状态行时(stderr 是终端),返回共享的状态;否则 None,什么也不做。
fn shared() -> Option<&'static Shared> {
    static SHARED: OnceLock<Option<&'static Shared>> = OnceLock::new();
    *SHARED.get_or_init(|| {
        let wanted = std::io::stderr().is_terminal()
            && std::env::var_os("COURSE_STATUS").is_none_or(|v| v != "0");
        if !wanted {
            return None;
        }
        let shared: &'static Shared = Box::leak(Box::new(Shared {
            board: Mutex::new(Board::default()),
            changed: Condvar::new(),
        }));
        // 画不出来(系统不给线程)也不要紧:状态行只是锦上添花。
        let _ = thread::Builder::new()
            .name("course-status".to_owned())
            .spawn(move || draw_forever(shared));
        Some(shared)
    })
}

fn lock(shared: &Shared) -> MutexGuard<'_, Board> {
    shared.board.lock().unwrap_or_else(PoisonError::into_inner)
}

/// 后台线程:有等了一秒以上的等待,就(重)画状态行。
fn draw_forever(shared: &'static Shared) {
    let mut board = lock(shared);
    loop {
        // 编号最小的那一项(同一项里最近开始的那次等待)。
        let shown = board.waits.iter().rev().min_by_key(|wait| {
            if wait.step == 0 {
                usize::MAX
            } else {
                wait.step
            }
        });
        let others = board
            .waits
            .iter()
            .filter(|w| w.step != 0)
            .map(|w| w.step)
            .collect::<std::collections::BTreeSet<_>>()
            .len()
            .saturating_sub(1);
        let due = shown.and_then(|wait| {
            let waited = wait.since.elapsed();
            let also = match others {
                0 => String::new(),
                n => format!(";另有 {n} 项也在进行"),
            };
            (waited >= SHOW_AFTER).then(|| {
                format!(
                    "{}…(最多 {} 秒,已等 {} 秒{also})",
                    wait.what,
                    wait.limit,
                    waited.as_secs()
                )
            })
        });
        if let Some(text) = due {
            erase();
            let mut stderr = std::io::stderr().lock();
            let _ = write!(stderr, "{text}");
            let _ = stderr.flush();
            board.drawn = true;
        }
        board = shared
            .changed
            .wait_timeout(board, REFRESH)
            .unwrap_or_else(PoisonError::into_inner)
            .0;
    }
}

/// 擦掉当前这一行:回到行首,清除到行尾。
fn erase() {
    let mut stderr = std::io::stderr().lock();
    let _ = write!(stderr, "\r\u{1b}[2K");
    let _ = stderr.flush();
}
