//! 第 {{N}} 课的评分器:(标题)。
//!
//! 规格(与 {{CHAPTER}} 一致):
//! - (程序该做什么,评分器检查什么。)

use crate::failure::Failure;
use crate::grader::{Lesson, Session, Step};

pub const LESSON: Lesson = Lesson {
    number: "{{NN}}",
    title: "(标题)",
    chapter: "{{CHAPTER}}",
    // 服务器应该一直运行吗?是的话,它在某一项检查里自己退出了,评分器会把这当作失败的原因。
    server_keeps_running: true,
    rules: &[],
    steps: &[Step {
        name: "启动后在第一行打印实际绑定的地址",
        points: 1,
        check: prints_its_address,
    }],
};

fn prints_its_address(session: &mut Session) -> Result<(), Failure> {
    session.start_server(&[]).map(drop)
}
