//! 一个运行完的程序(比如客户端),以及「应该好好地报错退出」「按时放弃」这些规则。

use std::time::Duration;

use predicates::Predicate;

use super::{describe_exit, scaled};
use crate::failure::Failure;

/// 一个运行完的程序。
pub struct Finished {
    pub status: std::process::ExitStatus,
    pub stdout: String,
    pub stderr: String,
    /// 是否因为超过期限而被结束。
    pub timed_out: bool,
    /// 评分器最多等它多久。
    pub limit: Duration,
    /// 从启动到结束用了多久。
    pub elapsed: Duration,
    /// 从评分器看到它的第一个动作(比如收到它的数据报)到结束用了多久;
    /// 没有这样的动作可看时等于 `elapsed`(见 [`super::Session::run_to_end_after`])。
    pub active: Duration,
}

impl Finished {
    /// 用中文描述它是怎么结束的。
    pub fn describe(&self) -> String {
        if self.timed_out {
            format!("过了 {} 秒还没有结束,被评分器结束了", self.limit.as_secs())
        } else {
            describe_exit(Some(self.status))
        }
    }

    /// 是否 panic 了(退出码 101,或 stderr 里有 panicked)。
    pub fn panicked(&self) -> bool {
        self.status.code() == Some(101) || self.stderr.contains("panicked")
    }

    /// 一个「应该好好地报错退出」的程序要过四道关:按时退出、不 panic、退出码不是 0、
    /// stderr 说清了原因。第一道没过的关,配上它的提示,就是这一步的失败。
    pub fn expect_error_exit<P: Predicate<str>>(
        &self,
        failure: &Failure,
        rules: ErrorExit<'_, P>,
    ) -> Result<(), Failure> {
        let hint = if self.timed_out {
            rules.hung
        } else if self.panicked() {
            rules.panicked
        } else if self.status.success() {
            rules.succeeded
        } else if !rules.explains.eval(&self.stderr) {
            if self.stderr.contains("os error 10060") {
                // Windows 的读超时(WSAETIMEDOUT)原样出现在 stderr 里:程序没认出它是超时。
                return Err(failure.clone().hint(format!(
                    "stderr 里的 os error 10060 就是 Windows 上的读超时(ErrorKind::TimedOut;\
                     Linux 和 macOS 上是 WouldBlock):你的程序没有把它认成超时。{}",
                    rules.unexplained
                )));
            }
            rules.unexplained
        } else {
            return Ok(());
        };
        Err(failure.clone().hint(hint))
    }
}

impl Finished {
    /// 「大约 `timeout` 之后放弃」从两边检查:不能早于 `timeout`(没等够就放弃,
    /// 比如根本没用 --timeout 的值),也不能晚很多(比如用的是默认的超时,而不是 --timeout)。
    /// 晚多少算「很多」:[`LATE`],慢机器上按 `COURSE_TIMEOUT_SCALE` 放大。
    ///
    /// 两边各用对程序最宽容的那个钟:「早」从启动算起(`elapsed`,只会多算),
    /// 「晚」从它的第一个动作算起(`active`,不算启动花的时间),所以评分器自己慢了,
    /// 或者机器忙得连启动程序都慢,都不会冤枉一个按时放弃的程序。
    pub fn expect_on_time(&self, failure: Failure, timeout: Duration) -> Result<(), Failure> {
        let secs = |d: Duration| format!("{:.1}", d.as_secs_f64());
        let latest = timeout + scaled(LATE);
        if self.elapsed < timeout.mul_f64(0.95) {
            return Err(failure
                .headline(format!(
                    "客户端没等够 {} 秒就放弃了",
                    timeout.as_secs()
                ))
                .actual(format!("{} 秒后就退出了", secs(self.elapsed)))
                .hint(
                    "超时要用 --timeout 的值:set_read_timeout(Some(Duration::from_secs(timeout)))。                     读超时到了,recv / read 才会返回超时的错误;在那之前就放弃,说明没有真的在等。",
                ));
        }
        if self.active > latest {
            return Err(failure
                .headline(format!(
                    "--timeout {} 的客户端等了太久才放弃",
                    timeout.as_secs()
                ))
                .actual(format!(
                    "{} 秒后才退出;最晚应该在 {} 秒左右",
                    secs(self.active),
                    secs(latest)
                ))
                .hint(
                    "超时要用 --timeout 参数的值,不要写死(也不要用参数的默认值):                     set_read_timeout(Some(Duration::from_secs(args.timeout)))。",
                ));
        }
        Ok(())
    }
}

/// 一个超时的程序最多可以比它的超时晚这么久放弃(启动、打印、退出都要时间)。
pub const LATE: Duration = Duration::from_millis(1500);

/// 该失败的程序却以退出码 0 退出时的提示(几课共用)。
pub const NOT_A_SUCCESS: &str =
    "这种情况就是失败:run 要返回 Err,main 据此返回非 0 的退出码(ExitCode::FAILURE)。";

/// [`Finished::expect_error_exit`] 的四道关各自的提示,以及「说清原因」的标准。
pub struct ErrorExit<'a, P> {
    /// 过了期限还没退出时的提示。
    pub hung: &'a str,
    /// panic 时的提示。
    pub panicked: &'a str,
    /// 以退出码 0 退出时的提示。
    pub succeeded: &'a str,
    /// stderr 要满足的条件。
    pub explains: P,
    /// stderr 不满足条件时的提示。
    pub unexplained: &'a str,
}

#[cfg(unix)]
pub(super) fn failed_status() -> std::process::ExitStatus {
    use std::os::unix::process::ExitStatusExt;
    std::process::ExitStatus::from_raw(1 << 8)
}

#[cfg(windows)]
pub(super) fn failed_status() -> std::process::ExitStatus {
    use std::os::windows::process::ExitStatusExt;
    std::process::ExitStatus::from_raw(1)
}
