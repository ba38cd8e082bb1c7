//! 一项检查启动的程序由它的 [`Reaper`] 负责结束:检查结束时,或者这一项的结果已经不需要时。

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use wait_timeout::ChildExt;

use super::{Ending, Process};
use crate::grader::scaled;

/// 没通过的检查最多等程序这么久:够它退出、或者把一行日志写完。
const SETTLE: Duration = Duration::from_secs(1);
/// 程序这么久没有再输出任何东西(而且没有写到一半的行),就算「说完了」。
const QUIET: Duration = Duration::from_millis(200);

/// 一项检查启动过的所有程序。检查结束时由评分器统一处理:通过了就立刻结束它们;
/// 没通过就先让它们把正在做的事做完(见 [`Reaper::finish`])。
#[derive(Clone, Default)]
pub struct Reaper {
    shared: Arc<Shared>,
}

#[derive(Default)]
struct Shared {
    processes: Mutex<Vec<Arc<Process>>>,
    /// 这一项的结果已经不需要了:此后启动的程序一启动就结束。
    cancelled: AtomicBool,
}

impl Reaper {
    fn lock(&self) -> MutexGuard<'_, Vec<Arc<Process>>> {
        self.shared
            .processes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// 接管一个刚启动的程序。
    pub(super) fn adopt(&self, process: Arc<Process>) {
        if self.shared.cancelled.load(Ordering::SeqCst) {
            process.stop();
        }
        self.lock().push(process);
    }

    /// 这一项检查的结果已经不需要了(前面的检查已经失败):马上结束它启动的所有程序。
    ///
    /// 检查自己不用知道这件事:它等的程序一结束,它的等待就跟着结束了,它很快会以某个失败收场,
    /// 而那个结果会被扔掉。
    pub fn cancel(&self) {
        self.shared.cancelled.store(true, Ordering::SeqCst);
        let processes = self.lock().clone();
        for process in processes {
            process.stop();
        }
    }

    /// 这一项已经被取消了吗(取消之后的失败是取消造成的,不必重做)。
    pub fn is_cancelled(&self) -> bool {
        self.shared.cancelled.load(Ordering::SeqCst)
    }

    /// 结束它接管的所有程序。`settle` 为真(检查没通过)时,先给每个程序一点时间:
    /// 正在退出的让它退完,正在写日志的让它写完这一行,最多等 [`SETTLE`]。
    ///
    /// 不这样做的话,评分器可能恰好在程序说出原因之前结束它:同一个错误,
    /// 有时报成「已退出,退出码 1」、带着完整的 stderr,有时报成「仍在运行」、stderr 只剩半行。
    pub fn finish(&self, settle: bool) {
        let processes = std::mem::take(&mut *self.lock());
        if settle {
            let until = Instant::now() + scaled(SETTLE);
            for process in &processes {
                process.settle(until);
            }
        }
        for process in &processes {
            process.stop();
        }
    }
}

impl Process {
    /// 等程序退出,或者安静下来(一段时间没有新输出,也没有写到一半的行),最多等到 `until`。
    fn settle(&self, until: Instant) {
        let started = Instant::now();
        loop {
            if self.try_wait().is_some() {
                return;
            }
            let now = Instant::now();
            let quiet_from = self
                .output
                .last_output()
                .map_or(started, |t| t.max(started));
            let quiet = now >= quiet_from + scaled(QUIET) && !self.output.mid_line();
            if quiet || now >= until {
                return;
            }
            // 等的同时留意它退出:wait_timeout 在进程退出时立刻返回。
            let slice = until.min(now + Duration::from_millis(20)) - now;
            let status = self.lock_child().wait_timeout(slice).ok().flatten();
            if let Some(status) = status {
                self.output.finish(Ending::Exited(status));
                return;
            }
        }
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        // 最后一份 Reaper 没了(评分器的那一项检查结束了,包括测试 panic 时):谁也不能留下。
        let processes = self
            .processes
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner);
        for process in processes.drain(..) {
            process.stop();
        }
    }
}
