-- A pupil's home page reads their own done marks of recent lessons in one
-- range scan (pupil, then lesson id) instead of one lookup per lesson.
CREATE INDEX IF NOT EXISTS homework_done_pupil ON homework_done (pupil_id, lesson_id);
