//! 评分器自己有没有被耽搁:机器忙不过来时,期限到了不一定是被测程序的错。
//!
//! 评分器的很多结论靠期限:「5 秒内没有回复」「客户端等到自己的超时才退出」。
//! 在一台两个核、同时在编译别的东西的机器上,评分器自己的线程可能好几秒轮不到 CPU:
//! 它回复晚了,正确的客户端等到超时退出,评分器却说是客户端的错。
//!
//! 所以评分器一直留着一个小哨兵:一个线程每 [`TICK`] 醒一次,记下它比预定晚醒了多久。
//! 晚醒得多,说明这段时间里整个评分器(和它启动的程序)都在排队等 CPU。一项检查没通过,
//! 而它运行期间哨兵晚醒的时间加起来有 [`LATE`] 那么多,这个结论就不可信,评分器重做这一项
//! (见 `grader::run`)。空闲的机器上哨兵几乎从不晚醒,什么也不重做,也不多花时间;
//! 偶尔一次的卡顿(比如一下子启动几十个程序)也不够。

use std::collections::VecDeque;
use std::sync::{Mutex, OnceLock, PoisonError, mpsc};
use std::thread;
use std::time::{Duration, Instant};

/// 哨兵多久醒一次。
const TICK: Duration = Duration::from_millis(10);
/// 晚醒这么久才记下来(空闲的机器上晚醒只有零点几毫秒)。
const NOTICE: Duration = Duration::from_millis(20);
/// 记录保留多久:比任何一项检查都长得多。
const KEEP: Duration = Duration::from_secs(120);
/// 一项检查运行期间,评分器一共被耽搁了这么久,它的失败结论就不可信,要重做。
///
/// 评分器最紧的期限是「超时要在 1 秒到 1.5 秒之间」这样的容差(半秒)。哨兵自己一共晚醒了
/// 四分之一秒,说明这段时间里各个线程、各个程序都在排队,一连串的等待叠起来
/// (实测比哨兵看到的多好几倍),就可能用掉那半秒。
pub const LATE: Duration = Duration::from_millis(250);

/// 哨兵的记录:每一次明显的晚醒,醒来的时刻和晚了多久。
struct Log {
    stalls: Mutex<VecDeque<(Instant, Duration)>>,
}

impl Log {
    fn record(&self, woke: Instant, late: Duration) {
        let mut stalls = self.stalls.lock().unwrap_or_else(PoisonError::into_inner);
        while stalls
            .front()
            .is_some_and(|(at, _)| woke.saturating_duration_since(*at) > KEEP)
        {
            stalls.pop_front();
        }
        stalls.push_back((woke, late));
    }

    fn lost_since(&self, since: Instant) -> Duration {
        let stalls = self.stalls.lock().unwrap_or_else(PoisonError::into_inner);
        stalls
            .iter()
            .filter(|(woke, _)| *woke >= since)
            .map(|(_, late)| *late)
            .sum()
    }
}

fn log() -> &'static Log {
    static LOG: OnceLock<Log> = OnceLock::new();
    LOG.get_or_init(|| {
        thread::Builder::new()
            .name("评分器的哨兵".to_owned())
            .spawn(|| {
                // 哨兵量的是「一次限时的等待晚醒了多久」,不是等谁:没有人会在这个通道上发东西,
                // 每一次 recv_timeout 都等满 TICK 才返回。
                let (_never, ticks) = mpsc::channel::<()>();
                loop {
                    let before = Instant::now();
                    let _ = ticks.recv_timeout(TICK);
                    let woke = Instant::now();
                    let late = woke.duration_since(before).saturating_sub(TICK);
                    if late >= NOTICE {
                        log().record(woke, late);
                    }
                }
            })
            .expect("评分器无法启动哨兵线程");
        Log {
            stalls: Mutex::new(VecDeque::new()),
        }
    })
}

/// 从某一刻起看着评分器有没有被耽搁。
pub struct Watch {
    since: Instant,
}

/// 从现在开始看(第一次调用时启动哨兵)。
pub fn watch() -> Watch {
    log();
    Watch {
        since: Instant::now(),
    }
}

impl Watch {
    /// 从开始看到现在,评分器一共被耽搁了多久(每一次明显的晚醒加起来)。
    pub fn lost(&self) -> Duration {
        log().lost_since(self.since)
    }

    /// 这段时间里评分器被耽搁得够多,期限上的结论不可信。
    pub fn was_late(&self) -> bool {
        self.lost() >= LATE
    }
}

/// 整台机器上「有任务在排队等 CPU」的累计时间(Linux 的 /proc/pressure/cpu,`some` 那一行的
/// total,微秒)。两次读数之差就是这段时间里机器有多挤。别的系统(或者没有 PSI 时)返回 None。
pub fn cpu_pressure() -> Option<Duration> {
    let text = std::fs::read_to_string("/proc/pressure/cpu").ok()?;
    let some = text.lines().find(|line| line.starts_with("some "))?;
    let total = some
        .split_whitespace()
        .find_map(|field| field.strip_prefix("total="))?;
    total.parse::<u64>().ok().map(Duration::from_micros)
}

/// 进程 `pid` 的所有线程一共在运行队列里排了多久(可以运行、却没轮到 CPU),从它启动算起。
///
/// 哨兵只看得到评分器自己被耽搁;被测程序被耽搁时,评分器量到的「它等了多久」也会变长。
/// Linux 在 /proc/<pid>/task/<tid>/schedstat 的第二个数里记着每个线程排队的纳秒数。
/// 别的系统(或者读不到时)返回 None:调用方只能当它没被耽搁。
pub fn queued(pid: u32) -> Option<Duration> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).ok()?;
    let mut total = 0u64;
    for task in tasks.flatten() {
        let stat = std::fs::read_to_string(task.path().join("schedstat")).unwrap_or_default();
        total += stat
            .split_whitespace()
            .nth(1)
            .and_then(|ns| ns.parse::<u64>().ok())
            .unwrap_or(0);
    }
    Some(Duration::from_nanos(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Linux 上读得到自己排队的时间。
    #[test]
    #[cfg(target_os = "linux")]
    fn queued_time_is_read_on_linux() {
        let pid = std::process::id();
        // 只能确认读得到:线程结束时它排过的队也跟着从 /proc 里消失,所以总数不一定只增不减。
        assert!(
            queued(pid).is_some(),
            "Linux 上有 /proc/<pid>/task/*/schedstat"
        );
        assert_eq!(queued(u32::MAX), None, "没有这个进程");
    }

    #[test]
    fn only_stalls_after_the_start_add_up() {
        let log = Log {
            stalls: Mutex::new(VecDeque::new()),
        };
        let start = Instant::now();
        let before = start - Duration::from_secs(1);
        log.record(before, Duration::from_millis(900));
        log.record(start + Duration::from_millis(5), Duration::from_millis(30));
        log.record(start + Duration::from_millis(9), Duration::from_millis(120));
        assert_eq!(log.lost_since(start), Duration::from_millis(150));
        assert_eq!(
            log.lost_since(start + Duration::from_millis(10)),
            Duration::ZERO
        );
    }

    #[test]
    fn old_stalls_are_forgotten() {
        let log = Log {
            stalls: Mutex::new(VecDeque::new()),
        };
        let start = Instant::now();
        log.record(start, Duration::from_millis(50));
        log.record(
            start + KEEP + Duration::from_secs(1),
            Duration::from_millis(40),
        );
        assert_eq!(log.stalls.lock().unwrap().len(), 1);
    }
}
