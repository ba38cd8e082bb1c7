//! 留意程序在 stderr 上说了什么:报了错的程序多半不会再回复了。

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::Output;
use crate::grader::scaled;

/// stderr 上出现了新内容以后,评分器最多再等回复这么久。
const GRACE: Duration = Duration::from_millis(1500);

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
    pub(super) fn new(output: Arc<Output>) -> StderrWatch {
        let from = output.lock().stderr.bytes.len();
        StderrWatch {
            output,
            from,
            grew_at: None,
        }
    }

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
