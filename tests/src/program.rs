//! 被测程序:一个总是被「驯服」的子进程。
//!
//! - stdin 是空的,stdout 和 stderr 各由一个线程读走(程序不会因为管道写满而卡住);
//! - 每一次等待都有截止时间,等的是「信号」(新的一行输出、进程退出),从不 sleep;
//! - `Program` 被 drop 时(包括测试 panic 时)子进程一定被结束并回收。

use std::io::Write as _;
use std::io::{self, Read};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use wait_timeout::ChildExt;

/// 每个流最多保留这么多字节;更多的输出照样读走(以免程序卡住),但不再保存。
const KEEP_BYTES: usize = 256 * 1024;

/// 一个正在运行(或刚刚结束)的被测程序。
#[must_use = "Program 被 drop 时会立刻结束子进程"]
pub struct Program {
    child: Child,
    output: Arc<Output>,
    /// 评分器「打字」用的 stdin;只有 [`Program::spawn_interactive`] 启动的程序才有。
    stdin: Option<ChildStdin>,
}

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
        Program::start(path, args, Stdio::null())
    }

    /// 启动一个要从 stdin 读键盘输入的程序(比如聊天客户端):评分器用 [`Program::type_line`]
    /// 替学员「打字」,用 [`Program::close_stdin`] 按下 Ctrl-D。
    pub fn spawn_interactive(path: &Path, args: &[&str]) -> io::Result<Program> {
        Program::start(path, args, Stdio::piped())
    }

    fn start(path: &Path, args: &[&str], stdin: Stdio) -> io::Result<Program> {
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
            child,
            output,
            stdin,
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

    /// 操作系统给这个进程的编号。
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// 共享的输出记录;程序结束以后也还能读。
    pub fn output(&self) -> Arc<Output> {
        Arc::clone(&self.output)
    }

    /// 等到 stdout 出现第一行完整的文字,或者截止时间到,或者 stdout 被关闭。
    pub fn first_line(&self, deadline: Instant) -> Result<String, WaitError> {
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
        let status = self.child.try_wait().ok().flatten()?;
        self.finish(Ending::Exited(status));
        Some(status)
    }

    /// 等程序自己退出,最多等到截止时间。返回 Some 时,它的输出已经读完了。
    pub fn wait_exit(&mut self, deadline: Instant) -> Option<ExitStatus> {
        let left = deadline.saturating_duration_since(Instant::now());
        let status = self.child.wait_timeout(left).ok().flatten()?;
        self.finish(Ending::Exited(status));
        Some(status)
    }

    /// 记下结局,并等读线程把管道里剩下的输出读完。
    fn finish(&self, ending: Ending) {
        self.output.set_ending(ending);
        // 进程已经没了,管道马上会关闭;只有它的子进程还握着管道时才会等满这一秒。
        self.output
            .wait_closed(Instant::now() + Duration::from_secs(1));
    }

    /// 结束程序(如果它还在运行),并等它的输出被读完。
    pub fn stop(&mut self) {
        if self.exited().is_none() {
            // kill 失败只可能是因为它刚好自己退出了;接下来的 wait 会把结局记下来。
            let _ = self.child.kill();
            if let Ok(status) = self.child.wait() {
                let ending = if killed_by_us(status) {
                    Ending::Killed
                } else {
                    Ending::Exited(status)
                };
                self.finish(ending);
            }
        }
    }
}

impl Drop for Program {
    fn drop(&mut self) {
        self.stop();
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
            }),
            changed: Condvar::new(),
        }
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
