//! Socket 编程实战的评分框架。
//!
//! 每一课的评分器都是一个 [`Lesson`]:有序的步骤,每一步启动学员的真实程序,
//! 用真实的套接字和它对话,再检查它的回复、stdout、stderr 和退出码。
//! 练习(`lessons/`)和参考答案(`solutions/`)的测试文件都只是把自己的程序交给
//! [`grade`],所以评分规则只写一次。
//!
//! 可靠性的约定:服务器一律用 `--port 0` 启动并读回它打印的地址;每一次等待都有
//! 截止时间;不用 sleep 做同步;被测程序在任何情况下(包括测试 panic)都会被结束。

// 评分步骤返回 Result<(), Failure>。Failure 只在失败时构造一次,它的大小无关紧要;
// 装箱只会让每个步骤更难读。
#![allow(clippy::result_large_err)]

pub mod chat;
pub mod client;
pub mod diagnose;
pub mod failure;
pub mod fixtures;
pub mod grader;
pub mod inputs;
pub mod park;
pub mod program;
pub mod report;
pub mod rules;
pub mod solutions;
pub mod stall;
pub mod status;
pub mod tcp;
pub mod text;
pub mod udp;

pub mod lesson01;
pub mod lesson02;
pub mod lesson03;
pub mod lesson04;
pub mod lesson05;
pub mod lesson06;

pub use failure::Failure;
pub use grader::{Lesson, Session, Step, grade, run, run_with};
pub use report::{Report, Status};

/// 按课号找评分器:"01"、"1" 都可以。
pub fn lesson(number: &str) -> Option<&'static Lesson> {
    LESSONS
        .iter()
        .copied()
        .find(|l| l.number == number || l.display_number() == number)
}

/// 所有的课,按顺序。
pub const LESSONS: &[&Lesson] = &[
    &lesson01::LESSON,
    &lesson02::LESSON,
    &lesson03::LESSON,
    &lesson04::LESSON,
    &lesson05::LESSON,
    &lesson06::LESSON,
];
