//! 被测程序:一个总是被「驯服」的子进程。
//!
//! - stdin 是空的,stdout 和 stderr 各由一个线程读走(程序不会因为管道写满而卡住);
//! - 每一次等待都有截止时间,等的是「信号」(新的一行输出、进程退出),从不 sleep;
//! - `Program` 被 drop 时(包括测试 panic 时)子进程一定被结束并回收。由评分器的一项检查
//!   启动的程序,由这项检查的 [`Reaper`] 负责结束:检查没通过时,它让正在退出、正在写日志的
//!   程序把话说完(有上限地等一会儿),再结束它,失败信息才每次都一样、不缺最后一行;
//!   前面的检查已经失败、这一项的结果不再需要时,它马上结束这一项的所有程序(见 [`Reaper::cancel`])。
//!
//! 分成几个文件:[`output`] 是读走、存下输出的部分,[`reaper`] 是结束程序的部分,
//! [`watch`] 留意程序在 stderr 上说了什么。

mod output;
mod reaper;
mod watch;

use std::io::{self, Write as _};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use wait_timeout::ChildExt;

use crate::status;

pub use output::Output;
pub use reaper::Reaper;
pub use watch::StderrWatch;

/// 一个正在运行(或刚刚结束)的被测程序。
#[must_use = "Program 被 drop 时会结束子进程(或交给它所在的那项检查去结束)"]
pub struct Program {
    process: Arc<Process>,
    /// 评分器「打字」用的 stdin;只有 [`Program::spawn_interactive`] 启动的程序才有。
    stdin: Option<ChildStdin>,
    /// 给人看的名字(「服务器」「客户端」),用在状态行里。
    label: String,
    /// 谁负责结束它;None 表示 drop 时立刻结束它。
    reaper: Option<Reaper>,
}

/// 子进程本身和它的输出。`Program` 和负责结束它的 [`Reaper`] 共用一份:
/// 评分器在一个线程里等它,另一个线程也随时能结束它。
struct Process {
    child: Mutex<Child>,
    output: Arc<Output>,
    /// `Program` 被 drop 以后还留着它的 stdin:程序的状态和检查结束那一刻一样。
    kept_stdin: Mutex<Option<ChildStdin>>,
}

/// 程序是怎么结束的。
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    /// 程序自己退出了。
    Exited(ExitStatus),
    /// 评分器结束了它(它没有自己退出)。
    Killed,
}

/// 等待 stdout 时可能的结果。
#[derive(Debug, PartialEq, Eq)]
pub enum WaitError {
    /// 截止时间到了。
    Timeout,
    /// 程序关掉了 stdout(通常是已经退出了)。
    Closed,
}

/// 等进程退出时,每隔这么久放开一次锁:别的线程(比如要结束它的 Reaper)才插得进来。
const EXIT_SLICE: Duration = Duration::from_millis(20);

impl Program {
    /// 启动程序:stdin 为空,stdout/stderr 由后台线程收集。
    ///
    /// 环境里设置 `RUST_BACKTRACE=0` 和 `NO_COLOR=1`,让 panic 信息简短、输出里没有颜色代码,
    /// 这样失败信息在谁的机器上都一样。
    pub fn spawn(path: &Path, args: &[&str]) -> io::Result<Program> {
        Program::launch(path, args, false, "程序", None)
    }

    /// 启动一个要从 stdin 读键盘输入的程序(比如聊天客户端):评分器用 [`Program::type_line`]
    /// 替学员「打字」,用 [`Program::close_stdin`] 按下 Ctrl-D。
    pub fn spawn_interactive(path: &Path, args: &[&str]) -> io::Result<Program> {
        Program::launch(path, args, true, "程序", None)
    }

    /// 启动程序。`reaper` 不是 None 时,由它负责结束这个程序(drop 时不结束)。
    pub(crate) fn launch(
        path: &Path,
        args: &[&str],
        interactive: bool,
        label: &str,
        reaper: Option<Reaper>,
    ) -> io::Result<Program> {
        let stdin = if interactive {
            Stdio::piped()
        } else {
            Stdio::null()
        };
        let mut child = Command::new(path)
            .args(args)
            .env("RUST_BACKTRACE", "0")
            .env("NO_COLOR", "1")
            .stdin(stdin)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;

        let output = Arc::new(Output::default());
        let stdout = child.stdout.take().expect("stdout 是 piped 的");
        let stderr = child.stderr.take().expect("stderr 是 piped 的");
        output::drain(stdout, Arc::clone(&output), |s| &mut s.stdout);
        output::drain(stderr, Arc::clone(&output), |s| &mut s.stderr);
        let stdin = child.stdin.take();
        let process = Arc::new(Process {
            child: Mutex::new(child),
            output,
            kept_stdin: Mutex::new(None),
        });
        if let Some(reaper) = &reaper {
            reaper.adopt(Arc::clone(&process));
        }
        Ok(Program {
            process,
            stdin,
            label: label.to_owned(),
            reaper,
        })
    }

    /// 在程序的 stdin 上「打」一行字(自动加上换行)。
    ///
    /// 管道能先存下 64 KiB,评分器只打几行短短的字,所以即使程序暂时不读,这里也不会卡住。
    /// 程序已经退出(管道断了)时返回错误。
    pub fn type_line(&mut self, line: &str) -> io::Result<()> {
        let stdin = self
            .stdin
            .as_mut()
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotConnected, "stdin 已经关闭了"))?;
        stdin.write_all(format!("{line}\n").as_bytes())?;
        stdin.flush()
    }

    /// 关闭程序的 stdin:程序读到 EOF,就像在终端里按下了 Ctrl-D。
    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }

    /// 给人看的名字,比如「服务器」「客户端 #2」。
    pub fn label(&self) -> &str {
        &self.label
    }

    /// 操作系统给这个进程的编号。
    pub fn id(&self) -> u32 {
        self.process.lock_child().id()
    }

    /// 共享的输出记录;程序结束以后也还能读。
    pub fn output(&self) -> Arc<Output> {
        Arc::clone(&self.process.output)
    }

    /// 等到 stdout 出现第一行完整的文字,或者截止时间到,或者 stdout 被关闭。
    pub fn first_line(&self, deadline: Instant) -> Result<String, WaitError> {
        let _status = self.waiting("的第一行输出", deadline);
        self.process.output.wait_stdout(deadline, |stdout| {
            stdout
                .split(|&b| b == b'\n')
                .next()
                .filter(|_| stdout.contains(&b'\n'))
                .map(|line| String::from_utf8_lossy(line).trim_end().to_owned())
        })
    }

    /// 等到 stdout 满足条件(比如出现了某段文字)。
    pub fn wait_stdout_until(
        &self,
        deadline: Instant,
        ready: impl Fn(&str) -> bool,
    ) -> Result<(), WaitError> {
        let _status = self.waiting("的输出", deadline);
        self.process.output.wait_stdout(deadline, |stdout| {
            ready(&String::from_utf8_lossy(stdout)).then_some(())
        })
    }

    /// 等到 stdout 和 stderr 合起来满足条件(比如某个地址出现在日志里)。
    pub fn wait_output_until(
        &self,
        deadline: Instant,
        ready: impl Fn(&str) -> bool,
    ) -> Result<(), WaitError> {
        let _status = self.waiting("的输出", deadline);
        self.process.output.wait_output(deadline, ready)
    }

    /// 程序是否已经退出了(不等待)。
    ///
    /// 返回 Some 时,它的输出已经读完了:进程退出前写进管道的最后几行,读线程未必已经读到,
    /// 所以这里要等管道关闭,否则紧接着检查 stdout 就会错过它们。
    /// 被评分器结束的程序(比如这一项的结果已经不需要了)也算退出了。
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.process.try_wait()
    }

    /// 等程序自己退出,最多等到截止时间。返回 Some 时,它的输出已经读完了。
    pub fn wait_exit(&mut self, deadline: Instant) -> Option<ExitStatus> {
        let _status = self.waiting("退出", deadline);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let slice = left.min(EXIT_SLICE);
            let status = self.process.lock_child().wait_timeout(slice).ok().flatten();
            if let Some(status) = status {
                self.process.output.finish(Ending::Exited(status));
                return Some(status);
            }
            if left <= slice {
                return None;
            }
        }
    }

    /// 结束程序(如果它还在运行),并等它的输出被读完。
    pub fn stop(&mut self) {
        self.process.stop();
    }

    /// 从现在起,留意程序在 stderr 上说的话(见 [`StderrWatch`])。
    pub fn watch_stderr(&self) -> StderrWatch {
        StderrWatch::new(self.output())
    }

    /// 状态行:「等服务器的第一行输出」。
    fn waiting(&self, what: &str, deadline: Instant) -> status::Waiting {
        let limit = deadline.saturating_duration_since(Instant::now());
        status::waiting(&format!("{}{what}", self.label), limit)
    }
}

impl Drop for Program {
    fn drop(&mut self) {
        match &self.reaper {
            // 交给这项检查:它结束时再决定是立刻结束,还是先让程序把话说完。
            // stdin 也留给它,程序的状态就和检查结束那一刻一样。
            Some(_) => *self.process.lock_kept_stdin() = self.stdin.take(),
            None => self.process.stop(),
        }
    }
}

impl Process {
    fn lock_child(&self) -> MutexGuard<'_, Child> {
        // 持锁时不会 panic(只调用 try_wait、wait_timeout、kill);即便发生了,子进程也还在。
        self.child.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn lock_kept_stdin(&self) -> MutexGuard<'_, Option<ChildStdin>> {
        self.kept_stdin
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// 已经退出了吗(不等待)?退出了就记下结局、等输出读完。
    fn try_wait(&self) -> Option<ExitStatus> {
        let status = self.lock_child().try_wait().ok().flatten()?;
        self.output.finish(Ending::Exited(status));
        Some(status)
    }

    /// 结束它(如果它还在运行),记下结局,并等它的输出被读完。
    fn stop(&self) {
        let mut child = self.lock_child();
        if let Ok(Some(status)) = child.try_wait() {
            drop(child);
            self.output.finish(Ending::Exited(status));
            return;
        }
        // kill 失败只可能是因为它刚好自己退出了;接下来的 wait 会把结局记下来。
        let _ = child.kill();
        let waited = child.wait();
        drop(child);
        if let Ok(status) = waited {
            let ending = if killed_by_us(status) {
                Ending::Killed
            } else {
                Ending::Exited(status)
            };
            self.output.finish(ending);
        }
    }
}

/// 有期限地读一个子进程 stdout 的第一行,然后关掉读的那一头(就像 `| head -n 1`)。
///
/// 在另一个线程里读:读完先关掉读端,再把这一行交回来;期限到了还没读到,返回 None
/// (那个线程会在子进程结束、管道关闭时结束)。参考答案的「stdout 被关掉」测试用它。
pub fn first_line_then_close(
    stdout: std::process::ChildStdout,
    within: Duration,
) -> Option<String> {
    use std::io::BufRead as _;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut first = String::new();
        // 读端在交出这一行之前就关掉(BufReader 在这条语句结束时被丢弃):调用方拿到第一行时,
        // 管道一定已经关了,接下来程序往 stdout 写,一定写进一个关掉的管道。
        let read = std::io::BufReader::new(stdout).read_line(&mut first);
        if matches!(read, Ok(n) if n > 0) {
            let _ = tx.send(first);
        }
    });
    rx.recv_timeout(within).ok()
}

/// 进程是不是被我们结束的:Unix 上那是 SIGKILL。
#[cfg(unix)]
pub(crate) fn killed_by_us(status: ExitStatus) -> bool {
    use std::os::unix::process::ExitStatusExt;
    status.signal() == Some(9)
}

/// Windows 上被结束的进程只有一个普通的退出码,分不出来;调用方要另作判断。
#[cfg(not(unix))]
pub(crate) fn killed_by_us(_status: ExitStatus) -> bool {
    true
}
