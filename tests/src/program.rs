//! 被测程序:一个总是被「驯服」的子进程。
//!
//! - stdin 是空的,stdout 和 stderr 各由一个线程读走(程序不会因为管道写满而卡住);
//! - 每一次等待都有截止时间,等的是「信号」(新的一行输出、进程退出),从不 sleep;
//! - `Program` 被 drop 时(包括测试 panic 时)子进程一定被结束并回收。由评分器的一项检查
//!   启动的程序,drop 时先交给这项检查的 [`Reaper`]:检查没通过时,评分器让正在退出、
//!   正在写日志的程序把话说完(有上限地等一会儿),再结束它,失败信息才每次都一样、不缺最后一行。

use std::io::Write as _;
use std::io::{self, Read};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use wait_timeout::ChildExt;

use crate::grader::scaled;
use crate::status;

/// 每个流最多保留这么多字节;更多的输出照样读走(以免程序卡住),但不再保存。
const KEEP_BYTES: usize = 256 * 1024;

/// 一个正在运行(或刚刚结束)的被测程序。
#[must_use = "Program 被 drop 时会结束子进程(或交给它所在的那项检查去结束)"]
pub struct Program {
    /// 只有在 drop 时才会被取走。
    child: Option<Child>,
    output: Arc<Output>,
    /// 评分器「打字」用的 stdin;只有 [`Program::spawn_interactive`] 启动的程序才有。
    stdin: Option<ChildStdin>,
    /// 给人看的名字(「服务器」「客户端」),用在状态行里。
    label: String,
    /// drop 时把子进程交给谁;None 表示 drop 时立刻结束它。
    reaper: Option<Reaper>,
}

/// 一项检查里已经放手、但还没有被结束的程序。检查结束时由评分器统一处理:
/// 通过了就立刻结束它们;没通过就先让它们把正在做的事做完(见 [`Reaper::finish`])。
#[derive(Clone, Default)]
pub struct Reaper {
    orphans: Arc<Mutex<Vec<Orphan>>>,
}

struct Orphan {
    child: Child,
    output: Arc<Output>,
    /// 留着它,程序的 stdin 就还开着:它的状态和检查结束那一刻一样。
    _stdin: Option<ChildStdin>,
}

/// 没通过的检查最多等程序这么久:够它退出、或者把一行日志写完。
const SETTLE: Duration = Duration::from_secs(1);
/// 程序这么久没有再输出任何东西(而且没有写到一半的行),就算「说完了」。
const QUIET: Duration = Duration::from_millis(200);
/// stderr 上出现了新内容以后,评分器最多再等回复这么久(见 [`StderrWatch`])。
const GRACE: Duration = Duration::from_millis(1500);

/// 程序的 stdout、stderr 和结局。读线程写,评分器读。
#[derive(Default)]
pub struct Output {
    state: Mutex<OutputState>,
    changed: Condvar,
}

#[derive(Default, Clone)]
struct OutputState {
    stdout: Stream,
    stderr: Stream,
    ending: Option<Ending>,
    /// 最后一次读到新输出的时刻。
    last_output: Option<Instant>,
}

#[derive(Default, Clone)]
struct Stream {
    bytes: Vec<u8>,
    dropped: usize,
    closed: bool,
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

    /// 启动程序。`reaper` 不是 None 时,drop 不结束它,而是把它交给 `reaper`。
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
        drain(stdout, Arc::clone(&output), |s| &mut s.stdout);
        drain(stderr, Arc::clone(&output), |s| &mut s.stderr);
        let stdin = child.stdin.take();
        Ok(Program {
            child: Some(child),
            output,
            stdin,
            label: label.to_owned(),
            reaper,
        })
    }

    fn child(&mut self) -> &mut Child {
        self.child.as_mut().expect("只有 drop 才会取走子进程")
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

    /// 操作系统给这个进程的编号。
    pub fn id(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// 共享的输出记录;程序结束以后也还能读。
    pub fn output(&self) -> Arc<Output> {
        Arc::clone(&self.output)
    }

    /// 等到 stdout 出现第一行完整的文字,或者截止时间到,或者 stdout 被关闭。
    pub fn first_line(&self, deadline: Instant) -> Result<String, WaitError> {
        let _status = self.waiting("的第一行输出", deadline);
        self.output.wait_stdout(deadline, |stdout| {
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
        self.output.wait_stdout(deadline, |stdout| {
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
        let output = &self.output;
        let mut state = output.lock();
        loop {
            let both = format!(
                "{}\n{}",
                String::from_utf8_lossy(&state.stdout.bytes),
                String::from_utf8_lossy(&state.stderr.bytes)
            );
            if ready(&both) {
                return Ok(());
            }
            if state.stdout.closed && state.stderr.closed {
                return Err(WaitError::Closed);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(WaitError::Timeout);
            }
            state = output
                .changed
                .wait_timeout(state, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// 程序是否已经自己退出了(不等待它退出)。
    ///
    /// 返回 Some 时,它的输出已经读完了:进程退出前写进管道的最后几行,读线程未必已经读到,
    /// 所以这里要等管道关闭,否则紧接着检查 stdout 就会错过它们。
    pub fn exited(&mut self) -> Option<ExitStatus> {
        let status = self.child().try_wait().ok().flatten()?;
        self.finish(Ending::Exited(status));
        Some(status)
    }

    /// 等程序自己退出,最多等到截止时间。返回 Some 时,它的输出已经读完了。
    pub fn wait_exit(&mut self, deadline: Instant) -> Option<ExitStatus> {
        let _status = self.waiting("退出", deadline);
        let left = deadline.saturating_duration_since(Instant::now());
        let status = self.child().wait_timeout(left).ok().flatten()?;
        self.finish(Ending::Exited(status));
        Some(status)
    }

    /// 记下结局,并等读线程把管道里剩下的输出读完。
    fn finish(&self, ending: Ending) {
        self.output.finish(ending);
    }

    /// 结束程序(如果它还在运行),并等它的输出被读完。
    pub fn stop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            stop(child, &self.output);
        }
    }

    /// 从现在起,留意程序在 stderr 上说的话(见 [`StderrWatch`])。
    pub fn watch_stderr(&self) -> StderrWatch {
        StderrWatch {
            output: self.output(),
            from: self.output.lock().stderr.bytes.len(),
            grew_at: None,
        }
    }

    /// 状态行:「等服务器的第一行输出」。
    fn waiting(&self, what: &str, deadline: Instant) -> status::Waiting {
        let limit = deadline.saturating_duration_since(Instant::now());
        status::waiting(&format!("{}{what}", self.label), limit)
    }
}

impl Drop for Program {
    fn drop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        match &self.reaper {
            // 交给这项检查:它结束时再决定是立刻结束,还是先让程序把话说完。
            Some(reaper) => reaper.lock().push(Orphan {
                child,
                output: Arc::clone(&self.output),
                _stdin: self.stdin.take(),
            }),
            None => stop(&mut child, &self.output),
        }
    }
}

/// 结束一个子进程(如果它还在运行),记下结局,并等它的输出被读完。
fn stop(child: &mut Child, output: &Output) {
    if let Ok(Some(status)) = child.try_wait() {
        output.finish(Ending::Exited(status));
        return;
    }
    // kill 失败只可能是因为它刚好自己退出了;接下来的 wait 会把结局记下来。
    let _ = child.kill();
    if let Ok(status) = child.wait() {
        let ending = if killed_by_us(status) {
            Ending::Killed
        } else {
            Ending::Exited(status)
        };
        output.finish(ending);
    }
}

impl Reaper {
    fn lock(&self) -> MutexGuard<'_, Vec<Orphan>> {
        self.orphans.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// 结束交到这里的所有程序。`settle` 为真(检查没通过)时,先给每个程序一点时间:
    /// 正在退出的让它退完,正在写日志的让它写完这一行,最多等 [`SETTLE`]。
    ///
    /// 不这样做的话,评分器可能恰好在程序说出原因之前结束它:同一个错误,
    /// 有时报成「已退出,退出码 1」、带着完整的 stderr,有时报成「仍在运行」、stderr 只剩半行。
    pub fn finish(&self, settle: bool) {
        let mut orphans = std::mem::take(&mut *self.lock());
        if settle {
            let until = Instant::now() + scaled(SETTLE);
            for orphan in &mut orphans {
                orphan.settle(until);
            }
        }
        for orphan in &mut orphans {
            stop(&mut orphan.child, &orphan.output);
        }
    }
}

impl Orphan {
    /// 等程序退出,或者安静下来(一段时间没有新输出,也没有写到一半的行),最多等到 `until`。
    fn settle(&mut self, until: Instant) {
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                self.output.finish(Ending::Exited(status));
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
            let _ = self.child.wait_timeout(slice);
        }
    }
}

impl Drop for Reaper {
    fn drop(&mut self) {
        // 最后一份 Reaper(评分器的那一项检查)结束时,谁也不能留下:测试 panic 时也一样。
        if Arc::strong_count(&self.orphans) == 1 {
            self.finish(false);
        }
    }
}

/// 从某一刻起,程序在 stderr 上说了什么。
///
/// 一个程序在 stderr 上报了错(比如「无法回复 …: Destination address required」),
/// 多半就不会再回复了:评分器不必等满期限,再给它 [`GRACE`] 就够了,然后根据它说的话诊断。
/// 正确的程序回复只要几毫秒,就算它同时记了一行警告,这点宽限也绰绰有余。
pub struct StderrWatch {
    output: Arc<Output>,
    from: usize,
    grew_at: Option<Instant>,
}

impl StderrWatch {
    /// 还值得等吗:stderr 没有新内容,或者新内容出现还不到 [`GRACE`]。
    pub fn patient(&mut self) -> bool {
        if self.new_text().trim().is_empty() {
            return true;
        }
        let grew_at = *self.grew_at.get_or_insert_with(Instant::now);
        grew_at.elapsed() < scaled(GRACE)
    }

    /// 开始留意以后,stderr 上新出现的文字。
    pub fn new_text(&self) -> String {
        let state = self.output.lock();
        let bytes = &state.stderr.bytes;
        String::from_utf8_lossy(&bytes[self.from.min(bytes.len())..]).into_owned()
    }
}

/// 进程是不是被我们(或 assert_cmd)结束的:Unix 上那是 SIGKILL。
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

/// 在后台线程里把一个管道读到底。
fn drain<R: Read + Send + 'static>(
    mut pipe: R,
    output: Arc<Output>,
    stream: fn(&mut OutputState) -> &mut Stream,
) {
    thread::spawn(move || {
        let mut buf = [0u8; 8192];
        loop {
            let n = match pipe.read(&mut buf) {
                Ok(0) | Err(_) => 0,
                Ok(n) => n,
            };
            let mut state = output.lock();
            if n > 0 {
                state.last_output = Some(Instant::now());
            }
            let stream = stream(&mut state);
            if n == 0 {
                stream.closed = true;
            } else {
                let room = KEEP_BYTES.saturating_sub(stream.bytes.len());
                let keep = n.min(room);
                stream.bytes.extend_from_slice(&buf[..keep]);
                stream.dropped += n - keep;
            }
            drop(state);
            output.changed.notify_all();
            if n == 0 {
                return;
            }
        }
    });
}

impl Output {
    /// 一个已经运行完的程序(比如 assert_cmd 跑完的)的输出记录。
    pub fn finished(output: &std::process::Output, timed_out: bool) -> Output {
        let stream = |bytes: &[u8]| Stream {
            bytes: bytes[..bytes.len().min(KEEP_BYTES)].to_vec(),
            dropped: bytes.len().saturating_sub(KEEP_BYTES),
            closed: true,
        };
        let ending = if timed_out {
            Ending::Killed
        } else {
            Ending::Exited(output.status)
        };
        Output {
            state: Mutex::new(OutputState {
                stdout: stream(&output.stdout),
                stderr: stream(&output.stderr),
                ending: Some(ending),
                last_output: None,
            }),
            changed: Condvar::new(),
        }
    }

    /// 记下结局,并等读线程把管道里剩下的输出读完。
    fn finish(&self, ending: Ending) {
        self.set_ending(ending);
        // 进程已经没了,管道马上会关闭;只有它的子进程还握着管道时才会等满这一秒。
        self.wait_closed(Instant::now() + Duration::from_secs(1));
    }

    /// 最后一次读到新输出的时刻。
    fn last_output(&self) -> Option<Instant> {
        self.lock().last_output
    }

    /// stdout 或 stderr 的最后一行是不是还没写完(没有换行)。
    fn mid_line(&self) -> bool {
        let state = self.lock();
        [&state.stdout.bytes, &state.stderr.bytes]
            .iter()
            .any(|bytes| bytes.last().is_some_and(|&b| b != b'\n'))
    }

    fn lock(&self) -> MutexGuard<'_, OutputState> {
        // 读线程不会在持锁时 panic;即便发生了,数据也还能用。
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// 等到 `found` 在 stdout 上返回 Some,或者截止时间到,或者 stdout 关闭。
    fn wait_stdout<T>(
        &self,
        deadline: Instant,
        found: impl Fn(&[u8]) -> Option<T>,
    ) -> Result<T, WaitError> {
        let mut state = self.lock();
        loop {
            if let Some(value) = found(&state.stdout.bytes) {
                return Ok(value);
            }
            if state.stdout.closed {
                return Err(WaitError::Closed);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(WaitError::Timeout);
            }
            state = self
                .changed
                .wait_timeout(state, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// 等两个管道都被读到底(最多到截止时间)。
    fn wait_closed(&self, deadline: Instant) {
        let mut state = self.lock();
        while !(state.stdout.closed && state.stderr.closed) {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return;
            }
            state = self
                .changed
                .wait_timeout(state, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    fn set_ending(&self, ending: Ending) {
        self.lock().ending.get_or_insert(ending);
    }

    /// 程序的结局;还在运行时是 None。
    pub fn ending(&self) -> Option<Ending> {
        self.lock().ending
    }

    /// 到目前为止的 stdout(坏的 UTF-8 显示为 �)。
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.lock().stdout.bytes).into_owned()
    }

    /// 到目前为止的 stderr(坏的 UTF-8 显示为 �)。
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.lock().stderr.bytes).into_owned()
    }

    /// 因为太多而没有保存下来的字节数(stdout, stderr)。
    pub fn dropped(&self) -> (usize, usize) {
        let state = self.lock();
        (state.stdout.dropped, state.stderr.dropped)
    }
}
