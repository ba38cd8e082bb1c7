//! 被测程序的输出:两个后台线程把 stdout 和 stderr 读走、存下来,评分器随时可以看、可以等。

use std::io::Read;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use super::{Ending, WaitError};

/// 每个流最多保留这么多字节;更多的输出照样读走(以免程序卡住),但不再保存。
const KEEP_BYTES: usize = 256 * 1024;

/// 程序的 stdout、stderr 和结局。读线程写,评分器读。
#[derive(Default)]
pub struct Output {
    state: Mutex<OutputState>,
    changed: Condvar,
}

#[derive(Default, Clone)]
pub(super) struct OutputState {
    pub(super) stdout: Stream,
    pub(super) stderr: Stream,
    ending: Option<Ending>,
    /// 最后一次读到新输出的时刻。
    last_output: Option<Instant>,
}

#[derive(Default, Clone)]
pub(super) struct Stream {
    pub(super) bytes: Vec<u8>,
    dropped: usize,
    closed: bool,
}

/// 在后台线程里把一个管道读到底。
pub(super) fn drain<R: Read + Send + 'static>(
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
    /// 记下结局,并等读线程把管道里剩下的输出读完。
    pub(super) fn finish(&self, ending: Ending) {
        /// 平常最多等这么久:只有它的子进程还握着管道时才会等满。
        ///
        /// 在 `.ci/soak 10 2` 那样忙的机器上,从进程退出到读线程读到 EOF 实测最多要将近 1 秒,
        /// 而哨兵一点也没有看到耽搁(20008 次里有 16 次超过半秒);偶尔还会超过 1 秒,评分器
        /// 就拿着空的 stdout 下了结论。所以平常就留 3 秒。
        const PATIENCE: Duration = Duration::from_secs(3);
        /// 评分器被耽搁时最多等这么久。
        const MOST: Duration = Duration::from_secs(6);
        self.set_ending(ending);
        // 进程已经没了,管道马上会关闭:读线程读完剩下的输出,就看到 EOF。机器很忙时,
        // 读线程可能一秒多都轮不到 CPU;评分器自己被耽搁了多久,就多等几倍那么久
        // (哨兵看到的比实际的少,见 crate::stall),否则评分器会拿着半截输出下结论。
        let watch = crate::stall::watch();
        let started = Instant::now();
        loop {
            let patience = (PATIENCE + watch.lost() * 4).min(MOST);
            if self.wait_closed(started + patience) || started.elapsed() >= patience {
                return;
            }
        }
    }

    /// 最后一次读到新输出的时刻。
    pub(super) fn last_output(&self) -> Option<Instant> {
        self.lock().last_output
    }

    /// stdout 或 stderr 的最后一行是不是还没写完(没有换行)。
    pub(super) fn mid_line(&self) -> bool {
        let state = self.lock();
        [&state.stdout.bytes, &state.stderr.bytes]
            .iter()
            .any(|bytes| bytes.last().is_some_and(|&b| b != b'\n'))
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, OutputState> {
        // 读线程不会在持锁时 panic;即便发生了,数据也还能用。
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// 等到 `found` 在 stdout 上返回 Some,或者截止时间到,或者 stdout 关闭。
    pub(super) fn wait_stdout<T>(
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

    /// 等到 stdout 和 stderr 合起来满足条件,或者截止时间到,或者两个都关闭了。
    pub(super) fn wait_output(
        &self,
        deadline: Instant,
        ready: impl Fn(&str) -> bool,
    ) -> Result<(), WaitError> {
        let mut state = self.lock();
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
            state = self
                .changed
                .wait_timeout(state, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// 等读线程把两个管道都读到 EOF,最多等到截止时间;返回是否都读完了。
    pub(super) fn wait_closed(&self, deadline: Instant) -> bool {
        let mut state = self.lock();
        while !(state.stdout.closed && state.stderr.closed) {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            state = self
                .changed
                .wait_timeout(state, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        true
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
