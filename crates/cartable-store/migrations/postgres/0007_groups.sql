-- Groups (Latin, a language group, a half-class): who teaches them, and
-- lessons and assignments for a group instead of a whole class (PostgreSQL).

CREATE TABLE teacher_groups (
    teacher_id BIGINT NOT NULL REFERENCES users(id),
    group_id BIGINT NOT NULL REFERENCES pupil_groups(id),
    school_id BIGINT NOT NULL REFERENCES schools(id),
    PRIMARY KEY (teacher_id, group_id)
);
CREATE INDEX teacher_groups_group ON teacher_groups (school_id, group_id);
-- A group's members (hand-in lists, workload): the primary key leads with the pupil.
CREATE INDEX group_members_group ON group_members (school_id, group_id);

-- A lesson or an assignment is for exactly one class or one group.
ALTER TABLE lessons ALTER COLUMN class_id DROP NOT NULL;
ALTER TABLE lessons ADD COLUMN group_id BIGINT REFERENCES pupil_groups(id);
ALTER TABLE lessons ADD CONSTRAINT lessons_one_target CHECK ((class_id IS NULL) <> (group_id IS NULL));
CREATE INDEX lessons_group_date ON lessons (school_id, group_id, lesson_date);
CREATE INDEX lessons_group_due ON lessons (school_id, group_id, due_date);

ALTER TABLE assignments ALTER COLUMN class_id DROP NOT NULL;
ALTER TABLE assignments ADD COLUMN group_id BIGINT REFERENCES pupil_groups(id);
ALTER TABLE assignments ADD CONSTRAINT assignments_one_target CHECK ((class_id IS NULL) <> (group_id IS NULL));
CREATE INDEX assignments_group ON assignments (school_id, group_id, due_at);
